"""dlt pipelines that load native cloud billing exports and business events into the warehouse."""
