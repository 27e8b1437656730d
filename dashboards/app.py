"""Entry point: `streamlit run dashboards/app.py`. Declares the pages and the filters they share."""

import sys
from pathlib import Path

import streamlit as st

# `streamlit run` puts only this folder on sys.path, but the pages import `dashboards.*` as a package;
# without this, the dashboard would work only after `pip install -e .`.
_REPO_ROOT = str(Path(__file__).resolve().parents[1])
if _REPO_ROOT not in sys.path:
    sys.path.insert(0, _REPO_ROOT)

from dashboards import data, filters  # noqa: E402  (needs the path above)

st.set_page_config(page_title="finops-warehouse", page_icon=":material/savings:", layout="wide")

# The page scripts live in views/, not pages/: Streamlit treats a `pages/` folder beside the entry file as the
# old multipage layout until `st.navigation` first runs, so a server whose first request was a deep link (an
# alert's `/anomalies?...`) would run that page alone, without the filters this file sets up.
pages = [
    st.Page("views/cost_overview.py", title="Overview", icon=":material/payments:", default=True),
    st.Page("views/showback.py", title="Showback", icon=":material/account_tree:", url_path="showback"),
    st.Page("views/unit_economics.py", title="Unit economics", icon=":material/scale:", url_path="unit-economics"),
    st.Page(
        "views/forecast_budgets.py", title="Forecast & budgets", icon=":material/trending_up:", url_path="forecast"
    ),
    # The alert webhook links to `{dashboard}/anomalies?anomaly=...`: this path is part of that contract.
    st.Page("views/anomalies.py", title="Anomalies", icon=":material/warning:", url_path="anomalies"),
    st.Page("views/commitments.py", title="Commitments", icon=":material/handshake:", url_path="commitments"),
    st.Page("views/savings.py", title="Savings opportunities", icon=":material/savings:", url_path="savings"),
    st.Page("views/data_quality.py", title="Data quality", icon=":material/fact_check:", url_path="data-quality"),
]
page = st.navigation(pages)

try:
    warehouse = data.open_warehouse()
except data.WarehouseUnavailable as exc:
    st.title(page.title)
    st.warning(str(exc), icon=":material/database:")
    st.stop()
bounds = data.charge_date_bounds(warehouse)
if bounds is None:
    st.title(page.title)
    st.info(f"`marts.focus_costs` has no rows yet. {data.BUILD_HINT}")
    st.stop()
filters.sidebar(warehouse, bounds)
page.run()
