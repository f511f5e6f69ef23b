//! Per-core load balancing: which endpoint of a cluster (and which of a
//! route's weighted clusters) a request goes to.
//!
//! Each worker owns its own [`Balancer`] per cluster and its own
//! [`WeightedPicker`], each with a seeded random generator: picking takes
//! `&mut self`, touches no shared state and never allocates. The policies
//! (smooth weighted round robin, least request by power of two choices,
//! weighted random) are described on [`Balancer`].

#![forbid(unsafe_code)]

mod balancer;
mod picker;
mod weights;

pub use balancer::Balancer;
pub use picker::WeightedPicker;

#[cfg(test)]
mod tests;
