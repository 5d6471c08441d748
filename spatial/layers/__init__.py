"""Layer management (图层管理, spec 5.1.7): importing vector files, the layer registry, map
configuration and themes, exports and identify. Views live in `api.py`; logic in the modules
named for their job."""
