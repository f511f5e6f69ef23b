//! Eureka's JSON. (Being written.)
