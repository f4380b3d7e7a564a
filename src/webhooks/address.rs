//! Where a webhook may point: an `http` or `https` URL whose host is a public address. Private,
//! loopback and link-local addresses (the church's own network, the machine itself, a cloud's
//! metadata service) are refused unless `WEBHOOK_ALLOW_PRIVATE=true`: when the webhook is
//! registered, and again at every delivery against what the name resolves to then
//! ([`GuardedResolver`], the resolver the delivery client connects through, so the address
//! checked is the address used).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::Url;

/// Whether `ip` is on the public internet: not loopback, private (RFC 1918, unique local),
/// link-local, carrier-grade NAT, unspecified, broadcast, multicast or documentation.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b)))
        }
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public(IpAddr::V4(v4)),
            None => {
                !(v6.is_loopback()
                    || v6.is_unspecified()
                    || v6.is_multicast()
                    || v6.is_unique_local()
                    || v6.is_unicast_link_local())
            }
        },
    }
}

/// Checks a webhook URL as it is registered: its form, and the addresses its host names now.
/// The message says what is wrong, for a 422.
pub async fn check(url: &str, allow_private: bool) -> Result<Url, String> {
    let parsed =
        Url::parse(url).map_err(|_| "must be an absolute http or https URL".to_string())?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err("must be an http or https URL".into());
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err("must not carry credentials; the signature authenticates deliveries".into());
    }
    if parsed.fragment().is_some() {
        return Err("must not have a fragment".into());
    }
    let Some(host) = parsed.host_str().filter(|h| !h.is_empty()) else {
        return Err("must name a host".into());
    };
    if allow_private {
        return Ok(parsed);
    }
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let addresses: Vec<IpAddr> = match host.parse::<IpAddr>() {
        Ok(ip) => vec![ip],
        Err(_) => {
            let port = parsed.port_or_known_default().unwrap_or(443);
            tokio::net::lookup_host((host, port))
                .await
                .map_err(|_| format!("`{host}` does not resolve"))?
                .map(|a| a.ip())
                .collect()
        }
    };
    match addresses.iter().find(|ip| !is_public(**ip)) {
        Some(ip) => Err(format!(
            "points to {ip}, a private, loopback or link-local address"
        )),
        None if addresses.is_empty() => Err(format!("`{host}` does not resolve")),
        None => Ok(parsed),
    }
}

/// The delivery client's resolver: the system's, with every private address taken out (unless
/// allowed). A name that resolves only to such addresses fails to connect, and the attempt
/// fails like any unreachable receiver.
#[derive(Debug, Clone)]
pub struct GuardedResolver {
    pub allow_private: bool,
}

impl GuardedResolver {
    pub fn shared(allow_private: bool) -> Arc<Self> {
        Arc::new(GuardedResolver { allow_private })
    }
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        let host = name.as_str().to_string();
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|a| allow_private || is_public(a.ip()))
                .collect();
            if found.is_empty() {
                return Err(format!("`{host}` resolves to no public address").into());
            }
            Ok(Box::new(found.into_iter()) as Addrs)
        })
    }
}

/// For a URL whose host is an address literal (which no resolver sees): whether it may be
/// delivered to.
pub fn literal_allowed(url: &Url, allow_private: bool) -> bool {
    let host = url
        .host_str()
        .unwrap_or("")
        .trim_start_matches('[')
        .trim_end_matches(']');
    match host.parse::<IpAddr>() {
        Ok(ip) => allow_private || is_public(ip),
        Err(_) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_loopback_and_link_local_addresses_are_not_public() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "::1",
            "::",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["93.184.216.34", "8.8.8.8", "172.32.0.1", "2606:4700::1111"] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
    }

    #[actix_web::test]
    async fn urls_are_checked_for_form_and_address() {
        for (url, why) in [
            ("ftp://example.org/hook", "http or https"),
            ("not a url", "absolute"),
            ("https://user:pass@example.org/", "credentials"),
            ("http://127.0.0.1:9000/hook", "loopback"),
            ("http://[::1]/hook", "loopback"),
            ("http://169.254.169.254/latest", "link-local"),
            ("http://10.0.0.5/", "private"),
            ("http://localhost:8080/", "private"),
        ] {
            let e = check(url, false).await.unwrap_err();
            assert!(e.contains(why), "{url}: {e}");
        }
        assert!(check("http://127.0.0.1:9000/hook", true).await.is_ok());
        assert!(check("https://93.184.216.34/hook", false).await.is_ok());
    }
}
