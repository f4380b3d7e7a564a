//! The client's address, which per-address rate limits count against.
//!
//! The TCP peer, unless the peer is one of `TRUSTED_PROXIES` (the load balancers in front of the
//! service): then `X-Forwarded-For` is read from the right, skipping the trusted hops, and the
//! first address that is not a trusted proxy's is the client's. Never the leftmost entry: a client
//! writes whatever it likes there, and every proxy only appends. Written here because actix-web's
//! `ConnectionInfo::realip_remote_addr` takes exactly that leftmost entry (its documentation warns
//! not to use it for security), which would let any client pick its own rate-limit key.

use std::future::{ready, Ready};
use std::net::IpAddr;

use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use ipnet::IpNet;

use crate::error::AppError;
use crate::state::AppState;

/// The address a request came from, as [`client_ip`] reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

impl ClientAddr {
    /// The text the rate limits key on.
    pub fn key(&self) -> String {
        self.0.to_string()
    }
}

impl FromRequest for ClientAddr {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(client_addr(req))
    }
}

fn client_addr(req: &HttpRequest) -> Result<ClientAddr, AppError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| AppError::bug("application state missing"))?;
    // A request always has a peer on a TCP listener; actix's test requests may not.
    let peer = req
        .peer_addr()
        .map(|a| a.ip())
        .unwrap_or(IpAddr::from([0, 0, 0, 0]));
    let forwarded = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok());
    Ok(ClientAddr(client_ip(
        peer,
        forwarded,
        &state.config.trusted_proxies,
    )))
}

/// The client's address given the TCP `peer`, the `X-Forwarded-For` header lines in the order they
/// came, and the trusted proxies' networks.
pub fn client_ip<'a>(
    peer: IpAddr,
    forwarded: impl Iterator<Item = &'a str>,
    trusted: &[IpNet],
) -> IpAddr {
    let peer = peer.to_canonical();
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let hops: Vec<&str> = forwarded.flat_map(|line| line.split(',')).collect();
    let mut nearest = peer;
    for hop in hops.iter().rev() {
        match parse_hop(hop) {
            Some(ip) if is_trusted(&ip) => nearest = ip,
            Some(ip) => return ip,
            // A hop no proxy of ours wrote (they write addresses): what is left of it is the
            // client's own text, so the nearest trusted hop is the best that is known.
            None => return nearest,
        }
    }
    nearest
}

/// One `X-Forwarded-For` entry: `203.0.113.7`, `2001:db8::1`, or with a port as some proxies
/// write it (`203.0.113.7:4711`, `[2001:db8::1]:4711`).
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    hop.parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<std::net::SocketAddr>().ok().map(|a| a.ip()))
        .map(|ip| ip.to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|n| n.parse().unwrap()).collect()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
        let trusted = nets(&["10.0.0.0/8"]);
        let got = client_ip(ip("198.51.100.9"), ["1.2.3.4"].into_iter(), &trusted);
        assert_eq!(got, ip("198.51.100.9"));
        assert_eq!(
            client_ip(ip("10.0.0.2"), std::iter::empty(), &[]),
            ip("10.0.0.2")
        );
    }

    #[test]
    fn behind_trusted_proxies_the_rightmost_untrusted_hop_is_the_client() {
        let trusted = nets(&["10.0.0.0/8", "192.168.1.1/32"]);
        // The client wrote 1.2.3.4 itself; the outer proxy appended the real address.
        let got = client_ip(
            ip("10.0.0.2"),
            ["1.2.3.4, 203.0.113.7", "192.168.1.1"].into_iter(),
            &trusted,
        );
        assert_eq!(got, ip("203.0.113.7"));
        // With ports, IPv6 in brackets, and an IPv4-mapped peer.
        let got = client_ip(
            ip("::ffff:10.0.0.2"),
            ["[2001:db8::1]:4711, 10.1.1.1:80"].into_iter(),
            &trusted,
        );
        assert_eq!(got, ip("2001:db8::1"));
    }

    #[test]
    fn garbage_or_only_trusted_hops_leave_the_nearest_trusted_address() {
        let trusted = nets(&["10.0.0.0/8"]);
        let got = client_ip(ip("10.0.0.2"), ["evil, 10.0.0.3"].into_iter(), &trusted);
        assert_eq!(got, ip("10.0.0.3"));
        let got = client_ip(ip("10.0.0.2"), std::iter::empty(), &trusted);
        assert_eq!(got, ip("10.0.0.2"));
    }
}
