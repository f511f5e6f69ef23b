//! HTTP/2 keepalive: a PING every interval; an unanswered one ends the
//! connection.

use std::future::poll_fn;

use h2::{Ping, PingPong};
use ringway_config::model::Keepalive;

use crate::signal::Signal;

/// Pings until `stop` fires or the connection ends. Returns true (after
/// firing `stop`) when a PING went unanswered for the timeout.
pub(crate) async fn run(mut ping: PingPong, keepalive: Keepalive, stop: &Signal) -> bool {
    loop {
        monoio::select! {
            _ = monoio::time::sleep(keepalive.interval) => {}
            _ = stop.wait() => return false,
        }
        if ping.send_ping(Ping::opaque()).is_err() {
            return false;
        }
        let pong = poll_fn(|cx| ping.poll_pong(cx));
        monoio::select! {
            result = monoio::time::timeout(keepalive.timeout, pong) => match result {
                Ok(Ok(_)) => {}
                Ok(Err(_)) => return false,
                Err(_) => {
                    stop.fire();
                    return true;
                }
            },
            _ = stop.wait() => return false,
        }
    }
}
