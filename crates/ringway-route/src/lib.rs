//! Request routing: virtual host and route selection over a validated listener
