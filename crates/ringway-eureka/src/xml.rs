//! Eureka's XML. (Being written.)
