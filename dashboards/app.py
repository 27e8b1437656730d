"""Entry point: `streamlit run dashboards/app.py`. Declares the pages; each page is its own script."""

import sys
from pathlib import Path

import streamlit as st

# `streamlit run` puts only this folder on sys.path, but the pages import `dashboards.*` as a package;
# without this, the dashboard would work only after `pip install -e .`.
_REPO_ROOT = str(Path(__file__).resolve().parents[1])
if _REPO_ROOT not in sys.path:
    sys.path.insert(0, _REPO_ROOT)

st.set_page_config(page_title="finops-warehouse", page_icon=":material/savings:", layout="wide")

pages = [
    st.Page("pages/cost_overview.py", title="Cost overview", icon=":material/payments:", default=True),
]
st.navigation(pages).run()
