"""One func.Blueprint per trigger family: parse, call one service, map the result.

Routes are written in full (`api/admin/...`) with an empty `routePrefix` in host.json: the
Functions host refuses any route *template* that begins with `admin` (or `runtime`), its own
management API, whatever the prefix; `api/admin/...` keeps the public paths and loads.
"""
