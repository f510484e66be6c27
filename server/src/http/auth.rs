//! Who is calling and what they may do: sessions for people, bearer tokens
//! for programs, the permission each route requires, and CSRF protection.

use std::marker::PhantomData;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse as _, Response};
use axum_extra::headers::authorization::Bearer;
use axum_extra::headers::{Authorization, Header as _};
use herald_model::account::{ApiTokenView, Permission, UserView};

use crate::AppState;
use crate::domain::accounts::secrets;
use crate::http::error::ApiError;

/// The session cookie's name over http. Over https it carries the
/// `__Host-` prefix, so no sibling subdomain can plant or read one.
pub const SESSION_COOKIE: &str = "herald_session";

pub fn session_cookie_name(secure: bool) -> &'static str {
    if secure { "__Host-herald_session" } else { SESSION_COOKIE }
}

/// The header Herald's pages send with every state-changing call. A form on
/// another site cannot set it, and a script there cannot either without a
/// CORS preflight, which Herald never grants.
pub const CSRF_HEADER: &str = "x-requested-with";
pub const CSRF_VALUE: &str = "Herald";

/// What a route requires of the signed-in user.
pub trait Requirement: Send + Sync + 'static {
    /// `None`: being signed in is enough.
    const PERMISSION: Option<Permission>;
}

/// The requirements routes name in their signatures: `Authorized<need::ManageUsers>`.
pub mod need {
    use super::{Permission, Requirement};

    macro_rules! requirement {
        ($($name:ident => $permission:expr),* $(,)?) => {$(
            pub struct $name;
            impl Requirement for $name {
                const PERMISSION: Option<Permission> = $permission;
            }
        )*};
    }

    requirement! {
        SignedIn => None,
        ViewAlerts => Some(Permission::ViewAlerts),
        ManageAlerts => Some(Permission::ManageAlerts),
        ManageDestinations => Some(Permission::ManageDestinations),
        ManageUsers => Some(Permission::ManageUsers),
        ManageApiTokens => Some(Permission::ManageApiTokens),
    }
}

/// A signed-in user who has what `R` requires. A missing or expired session
/// is 401; a role without the permission is 403.
pub struct Authorized<R: Requirement> {
    pub user: UserView,
    requirement: PhantomData<R>,
}

impl<R: Requirement> FromRequestParts<AppState> for Authorized<R> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let unauthenticated =
            || ApiError::new(StatusCode::UNAUTHORIZED, "unauthenticated", "Sign in to continue; your session may have ended.");
        let token = cookie(&parts.headers, session_cookie_name(state.cookies_secure())).ok_or_else(unauthenticated)?;
        let user =
            state.store.session_user(&secrets::hash(&token), jiff::Timestamp::now().as_second()).await?.ok_or_else(unauthenticated)?;
        if let Some(permission) = R::PERMISSION
            && !user.role.allows(permission)
        {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                format!("Your role ({}) does not include {}. Ask an admin to change your role.", user.role.label(), permission.label()),
            ));
        }
        Ok(Authorized { user, requirement: PhantomData })
    }
}

/// A program calling with `Authorization: Bearer <API token>`.
pub struct ApiCaller {
    pub token: ApiTokenView,
}

impl FromRequestParts<AppState> for ApiCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let secret = bearer(&parts.headers).ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "missing_token",
                "Send an API token as `Authorization: Bearer <token>`. Admins create tokens under API Tokens.",
            )
            .with_header(header::WWW_AUTHENTICATE, "Bearer")
        })?;
        let token = state.store.use_api_token(&secrets::hash(&secret)).await?.ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "invalid_token",
                "This API token is unknown or revoked. Create a new one under API Tokens.",
            )
            .with_header(header::WWW_AUTHENTICATE, "Bearer error=\"invalid_token\"")
        })?;
        Ok(ApiCaller { token })
    }
}

/// The caller's IP address: the socket's, or, when that is a trusted
/// proxy (`HERALD_TRUSTED_PROXIES`), the client it names.
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let peer =
            parts.extensions.get::<ConnectInfo<SocketAddr>>().map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |ConnectInfo(addr)| addr.ip());
        Ok(ClientIp(client_ip(peer, &parts.headers, &state.settings.trusted_proxies)))
    }
}

/// The rightmost hop that is not a trusted proxy, walking back from the
/// socket through `Forwarded` (RFC 7239) or else `X-Forwarded-For`; hops
/// Herald cannot read end the walk (nothing left of them is believed).
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &crate::settings::TrustedProxies) -> IpAddr {
    if !trusted.contains(peer) {
        return peer.to_canonical();
    }
    let values = |name: header::HeaderName| -> Vec<String> {
        headers.get_all(name).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')).map(|h| h.trim().to_owned()).collect()
    };
    let forwarded = values(header::FORWARDED);
    let hops: Vec<Option<IpAddr>> = if forwarded.is_empty() {
        values(header::HeaderName::from_static("x-forwarded-for")).iter().map(|h| parse_hop(h)).collect()
    } else {
        forwarded
            .iter()
            .map(|element| {
                element.split(';').find_map(|pair| {
                    let (key, value) = pair.trim().split_once('=')?;
                    key.eq_ignore_ascii_case("for").then(|| parse_hop(value.trim_matches('"'))).flatten()
                })
            })
            .collect()
    };
    let mut client = peer;
    for hop in hops.into_iter().rev() {
        match hop {
            Some(ip) if trusted.contains(client) => client = ip,
            _ => break,
        }
    }
    client.to_canonical()
}

/// `203.0.113.7`, `203.0.113.7:4711`, `[2001:db8::1]:4711` or `2001:db8::1`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    if let Ok(ip) = hop.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Ok(addr) = hop.parse::<SocketAddr>() {
        return Some(addr.ip());
    }
    hop.strip_prefix('[').and_then(|rest| rest.split(']').next()).and_then(|ip| ip.parse().ok())
}

/// Refuses state-changing API calls that did not come from Herald's own
/// pages: they must carry [`CSRF_HEADER`], and an `Origin`, when sent, must
/// be Herald's. Programs calling with a bearer token and no session cookie
/// carry no cookie authority and pass.
pub async fn csrf_guard(axum::extract::State(state): axum::extract::State<AppState>, request: Request, next: Next) -> Response {
    let safe = matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let headers = request.headers();
    // Forged requests ride on a session cookie; without one there is nothing
    // to forge (the handler's own check answers 401), except signing in,
    // which must not be started by another site either.
    let signing_in = request.uri().path().ends_with("/session");
    let program = cookie(headers, session_cookie_name(state.cookies_secure())).is_none() && !signing_in;
    if safe || program {
        return next.run(request).await;
    }
    let refuse = |message: &str| ApiError::new(StatusCode::FORBIDDEN, "csrf", message.to_owned()).into_response();
    // DNS rebinding: a page at another name that resolves to Herald. Its
    // requests name that host; Herald answers only to its own.
    let configured = state.settings.public_url.is_some();
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or_default();
    if configured && !is_own_host(host, &state.public_url) {
        return refuse("This request named another host than Herald's public URL (HERALD_PUBLIC_URL) and was refused.");
    }
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        let ours = if configured {
            origin == state.public_url.origin().ascii_serialization()
        } else {
            same_origin(origin, &state.public_url, headers)
        };
        if !ours {
            return refuse("This request came from another site and was refused.");
        }
    }
    let marked = headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok()).is_some_and(|v| v.eq_ignore_ascii_case(CSRF_VALUE));
    if !marked {
        return refuse("This request did not come from Herald's pages and was refused (it lacks the X-Requested-With: Herald header).");
    }
    next.run(request).await
}

/// Whether a `Host` header names Herald: the public URL's host, or a
/// loopback address (what a proxy on the same machine may rewrite it to).
fn is_own_host(host: &str, public_url: &url::Url) -> bool {
    let name = match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) && !name.ends_with(':') => name,
        _ => host,
    };
    let name = name.trim_start_matches('[').trim_end_matches(']');
    if public_url.host_str().is_some_and(|own| own.trim_start_matches('[').trim_end_matches(']').eq_ignore_ascii_case(name)) {
        return true;
    }
    name.eq_ignore_ascii_case("localhost") || name.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Whether a request's `Origin` is Herald itself: the public URL, or the
/// host the browser addressed (people reach one server as `localhost`,
/// `127.0.0.1` or a proxy's name, and only the browser's own page can send
/// its own origin).
fn same_origin(origin: &str, public_url: &url::Url, headers: &HeaderMap) -> bool {
    if origin == public_url.origin().ascii_serialization() {
        return true;
    }
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let authority = origin.strip_prefix("https://").or_else(|| origin.strip_prefix("http://"));
    matches!((authority, host), (Some(authority), Some(host)) if authority.eq_ignore_ascii_case(host))
}

/// The value of one cookie from the `Cookie` header, found by its exact
/// name as the browser sent it; an empty one is none, and of two with the
/// name the first counts. Read by hand rather than with axum-extra's
/// `CookieJar`: the jar percent-decodes names, so a cookie a sibling site
/// planted as `__Host%2Dherald_session` would pass for the `__Host-` one
/// that only Herald can set, and of two with one name it keeps the last.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_owned())
        .filter(|value| !value.is_empty())
}

/// The token of `Authorization: Bearer <token>`, the scheme in any case.
pub fn bearer(headers: &HeaderMap) -> Option<String> {
    let Authorization(bearer) = Authorization::<Bearer>::decode(&mut headers.get_all(header::AUTHORIZATION).iter()).ok()?;
    Some(bearer.token().trim().to_owned()).filter(|token| !token.is_empty())
}

/// `Set-Cookie` for a new session; `Secure` when Herald is served over https.
pub fn session_cookie(value: &str, max_age_secs: i64, secure: bool) -> String {
    let name = session_cookie_name(secure);
    let secure = if secure { "; Secure" } else { "" };
    format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}{secure}")
}

/// `Set-Cookie` that removes the session cookie.
pub fn clear_session_cookie(secure: bool) -> String {
    session_cookie("", 0, secure)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_cookie_is_http_only_lax_and_secure_over_https() {
        assert_eq!(session_cookie("abc", 60, true), "__Host-herald_session=abc; Path=/; HttpOnly; SameSite=Lax; Max-Age=60; Secure");
        assert!(!session_cookie("abc", 60, false).contains("Secure"));
    }

    #[test]
    fn cookies_are_read_by_exact_name() {
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, "other=1; herald_session_x=2; herald_session=tok".parse().unwrap());
        assert_eq!(cookie(&headers, SESSION_COOKIE).as_deref(), Some("tok"));
        assert_eq!(cookie(&headers, "missing"), None);
    }

    #[test]
    fn a_percent_encoded_name_is_not_the_host_only_session_cookie() {
        let secure = session_cookie_name(true);
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, "__Host%2Dherald_session=planted".parse().unwrap());
        assert_eq!(cookie(&headers, secure), None, "only the name as Herald set it counts");
        headers.insert(header::COOKIE, format!("{secure}=mine; {secure}=planted").parse().unwrap());
        assert_eq!(cookie(&headers, secure).as_deref(), Some("mine"), "the first of two");
    }

    #[test]
    fn an_origin_is_herald_s_when_it_is_the_public_url_or_the_addressed_host() {
        let public: url::Url = "http://127.0.0.1:8080/".parse().unwrap();
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, "localhost:8080".parse().unwrap());
        assert!(same_origin("http://127.0.0.1:8080", &public, &headers));
        assert!(same_origin("http://localhost:8080", &public, &headers));
        assert!(!same_origin("http://localhost:9999", &public, &headers));
        assert!(!same_origin("https://evil.example", &public, &headers));
        assert!(!same_origin("null", &public, &headers));
    }

    #[test]
    fn bearer_tokens_are_read_in_any_scheme_case() {
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, "bearer hrld_x".parse().unwrap());
        assert_eq!(bearer(&headers).as_deref(), Some("hrld_x"));
        headers.insert(header::AUTHORIZATION, "Basic abc".parse().unwrap());
        assert_eq!(bearer(&headers), None);
    }
}
