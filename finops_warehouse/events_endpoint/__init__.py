"""`finops serve-events`: business events pushed over HTTP, checked, and landed as files for the loader.

Clients POST batches of events with a bearer token; a batch is checked with the events loader's own rules
and either refused whole (4xx naming every bad event) or written durably as one new JSON lines file in the
landing folder, which `finops load events` (and the watch loop) reads like any file drop.
"""
