"""Page scripts run by `st.navigation`; a package so that setuptools ships them with `dashboards`."""
