//! Serving the web app: files from `dist/` (precompressed variants, cache
//! lifetimes by name), `index.html` for the app's own routes, and the
//! security headers every response carries.

use std::path::{Path, PathBuf};

use axum::Router;
use axum::extract::Request;
use axum::handler::HandlerWithoutStateExt as _;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tower::{Layer as _, ServiceExt as _};
use tower_http::services::{ServeDir, ServeFile};

/// No inline script or style anywhere; `'wasm-unsafe-eval'` lets the app's
/// WebAssembly compile, and nothing else is loosened.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
     style-src 'self'; img-src 'self'; connect-src 'self'; font-src 'self'; object-src 'none'; \
     base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const REVALIDATE: &str = "no-cache";

/// The app's stylesheet (its name is content-hashed), as `index.html`
/// links it: for the few pages the server writes itself.
pub fn stylesheet_href(dist: &Path) -> Option<String> {
    let index = std::fs::read_to_string(dist.join("index.html")).ok()?;
    let start = index.find("href=\"/app-")? + "href=\"".len();
    let end = start + index[start..].find('"')?;
    let href = &index[start..end];
    (href.ends_with(".css") && looks_like_a_file(href)).then(|| href.to_owned())
}

/// Serves `dist/` for every path `router` leaves unclaimed.
pub fn with_static_files<S: Clone + Send + Sync + 'static>(router: Router<S>, dist: &Path) -> Router<S> {
    let index = dist.join("index.html");
    let app_route = move |request: Request| {
        let index = index.clone();
        async move { serve_index_for_app_routes(index, request).await }
    };
    let files = ServeDir::new(dist).precompressed_br().precompressed_gzip().fallback(app_route.into_service());
    // The cache rules wrap the files alone; API answers set their own.
    router.fallback_service(axum::middleware::from_fn(cache_control).layer(files))
}

/// The app routes in the browser (`/destinations/new`), so any GET path that
/// is not a file gets `index.html`. A missing *file* (`/app-1234.js`) stays a
/// 404: answering a script request with HTML only hides the real problem.
async fn serve_index_for_app_routes(index: PathBuf, request: Request) -> Response {
    if !matches!(*request.method(), Method::GET | Method::HEAD) {
        return StatusCode::METHOD_NOT_ALLOWED.into_response();
    }
    if looks_like_a_file(request.uri().path()) {
        return (StatusCode::NOT_FOUND, "Not found\n").into_response();
    }
    if !index.is_file() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "Herald's web app is not built. Run `cargo xtask build`, or set HERALD_DIST_DIR to the folder that holds index.html.\n",
        )
            .into_response();
    }
    match ServeFile::new(index).precompressed_br().precompressed_gzip().oneshot(request).await {
        Ok(response) => response.map(axum::body::Body::new),
        Err(never) => match never {},
    }
}

/// A path whose last segment has an extension names a file, not an app route.
pub fn looks_like_a_file(path: &str) -> bool {
    path.rsplit('/').next().is_some_and(|segment| segment.contains('.'))
}

/// Hashed files are cached for a year; everything else is revalidated, so a
/// new build is picked up at the next load.
pub async fn cache_control(request: Request, next: Next) -> Response {
    let immutable = herald_model::assets::is_hashed_name(request.uri().path());
    let mut response = next.run(request).await;
    if response.status().is_success() || response.status() == StatusCode::NOT_MODIFIED {
        let value = if immutable { IMMUTABLE } else { REVALIDATE };
        response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
    }
    response
}

pub async fn security_headers(axum::extract::State(state): axum::extract::State<crate::AppState>, mut response: Response) -> Response {
    let headers: &mut HeaderMap = response.headers_mut();
    // Browsers that reached Herald over https keep to https for a year.
    if state.public_url.scheme() == "https" {
        headers.entry(header::STRICT_TRANSPORT_SECURITY).or_insert(HeaderValue::from_static("max-age=31536000"));
    }
    for (name, value) in [
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::HeaderName::from_static("cross-origin-opener-policy"), "same-origin"),
    ] {
        headers.entry(name).or_insert(HeaderValue::from_static(value));
    }
    response
}

/// Says so at start-up when the web app has not been built yet.
pub fn warn_if_app_missing(dist: &Path) {
    if !dist.join("index.html").is_file() {
        tracing::warn!(
            dist_dir = %dist.display(),
            "no web app found (index.html is missing): run `cargo xtask build` or set HERALD_DIST_DIR"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_routes_are_not_files_but_assets_are() {
        for route in ["/", "/destinations", "/destinations/new", "/alerts/b90c19e6"] {
            assert!(!looks_like_a_file(route), "{route}");
        }
        for file in ["/index.html", "/app-0123456789abcdef.js", "/favicon.ico", "/deep/path/x.png"] {
            assert!(looks_like_a_file(file), "{file}");
        }
    }
}
