//! The admin HTTP API: readiness, stats, clusters, config dump and lifecycle endpoints
