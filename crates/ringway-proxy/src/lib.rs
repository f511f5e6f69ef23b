//! The per-core HTTP/1.1 forwarding pipeline: downstream connections, upstream pools, local replies and access logs
