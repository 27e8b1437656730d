"""Streamlit dashboards over the warehouse marts: `streamlit run dashboards/app.py`."""
