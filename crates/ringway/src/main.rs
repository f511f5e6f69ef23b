//! The ringway data plane binary: command line, start-up, reloads and shutdown

fn main() {}
