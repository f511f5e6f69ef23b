//! Per-core load balancing: smooth weighted round robin, least request (power of two choices) and weighted random
