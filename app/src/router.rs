//! Moving between the app's pages without reloading. The address is two
//! signals (path and query) kept in step with the browser's history; one
//! click listener on the window turns clicks on the app's own links into
//! [`navigate`]; `App` picks the page with a `match` on [`Route`].
//! leptos_router did the same through generic nested-route code that was
//! a tenth of the app's wasm.

use leptos::prelude::*;
use wasm_bindgen::JsCast as _;

/// The pages, from the path alone; `App` shows one per value. A change of
/// query (the alert filters) or of the wizard's step keeps the page.
#[derive(Debug, Clone, PartialEq)]
pub enum Route {
    Home,
    SignIn,
    Alerts,
    Alert(String),
    Destinations,
    NewDestination,
    Setup(String),
    EditDestination(String),
    Users,
    Tokens,
    NotFound,
}

impl Route {
    pub fn of(path: &str) -> Route {
        let segments: Vec<String> = path.split('/').filter(|s| !s.is_empty()).map(decode).collect();
        let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
        match segments.as_slice() {
            [] => Route::Home,
            ["sign-in"] => Route::SignIn,
            ["alerts"] => Route::Alerts,
            ["alerts", id] => Route::Alert((*id).to_owned()),
            ["destinations"] => Route::Destinations,
            ["destinations", "new"] => Route::NewDestination,
            ["destinations", id, "setup", _step] => Route::Setup((*id).to_owned()),
            ["destinations", id, "edit"] => Route::EditDestination((*id).to_owned()),
            ["users"] => Route::Users,
            ["tokens"] => Route::Tokens,
            _ => Route::NotFound,
        }
    }
}

/// An ID as one path segment, percent-encoded: whatever it holds, it cannot
/// reach another route or API path (`/`, `?`, `#` and the rest are
/// encoded), and [`Route::of`] decodes it back.
pub fn segment(id: &str) -> String {
    js_sys::encode_uri_component(id).into()
}

fn decode(segment: &str) -> String {
    js_sys::decode_uri_component(segment).map(String::from).unwrap_or_else(|_| segment.to_owned())
}

/// Where the app is: `path` (`/alerts`) and `search` (`?status=OPEN`, or
/// empty), as the browser's location has them.
#[derive(Clone, Copy)]
pub struct Location {
    pub path: RwSignal<String>,
    pub search: RwSignal<String>,
}

thread_local! {
    static LOCATION: std::cell::OnceCell<Location> = const { std::cell::OnceCell::new() };
}

/// Reads the browser's address into the signals and starts following Back,
/// Forward and link clicks. Called once, by `App`.
pub fn start() -> Location {
    let location = Location { path: RwSignal::new(String::new()), search: RwSignal::new(String::new()) };
    LOCATION.with(|cell| {
        let _ = cell.set(location);
    });
    sync();
    // The handles live as long as the page: the app is never unmounted.
    std::mem::forget(window_event_listener(leptos::ev::popstate, |_| sync()));
    std::mem::forget(window_event_listener(leptos::ev::click, on_click));
    location
}

pub fn location() -> Location {
    LOCATION.with(|cell| *cell.get().expect("router::start runs before any page"))
}

/// Copies the browser's location into the signals (a change wakes only
/// what reads the part that changed).
fn sync() {
    let browser = window().location();
    let location = location();
    let path = browser.pathname().unwrap_or_default();
    let search = browser.search().unwrap_or_default();
    if location.path.get_untracked() != path {
        location.path.set(path);
    }
    if location.search.get_untracked() != search {
        location.search.set(search);
    }
}

/// A query parameter of the address, decoded; tracked.
pub fn query(key: &str) -> Option<String> {
    let search = location().search.get();
    web_sys::UrlSearchParams::new_with_str(&search).ok()?.get(key)
}

/// How [`navigate_with`] goes.
#[derive(Clone, Copy)]
pub struct Go {
    /// Replace the current history entry instead of adding one (Back then
    /// skips it).
    pub replace: bool,
    /// Start at the top of the new page.
    pub scroll: bool,
}

/// Goes to `url` (a path on this site), adding a history entry.
pub fn navigate(url: &str) {
    navigate_with(url, Go { replace: false, scroll: true });
}

pub fn navigate_with(url: &str, go: Go) {
    let window = window();
    let Ok(history) = window.history() else {
        let _ = window.location().set_href(url);
        return;
    };
    let browser = window.location();
    let here = format!("{}{}", browser.pathname().unwrap_or_default(), browser.search().unwrap_or_default());
    let moved = if go.replace || here == url {
        history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(url))
    } else {
        history.push_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(url))
    };
    if moved.is_err() {
        let _ = window.location().set_href(url);
        return;
    }
    sync();
    if go.scroll {
        window.scroll_to_with_x_and_y(0.0, 0.0);
    }
}

/// Sends the browser to `url` in place of the page being drawn (Back does
/// not return to it). After the current render, which must not see the
/// address change under it.
pub fn redirect(url: String) {
    queue_microtask(move || navigate_with(&url, Go { replace: true, scroll: true }));
}

/// Whether `href` is the page shown or one below it (`/destinations` for
/// `/destinations/…/edit`): navigation marks it `aria-current`.
pub fn is_current(href: &str) -> bool {
    let path = location().path.get();
    path == href || path.strip_prefix(href).is_some_and(|rest| rest.starts_with('/'))
}

/// A click on a link to one of the app's pages changes the page without a
/// reload. The browser keeps what it does best: new tabs and windows
/// (modifier keys, middle button, `target`), downloads, `rel="external"`,
/// paths that are not the app's pages (Herald's server routes, like the
/// Slack install), other sites, and jumps within the page.
fn on_click(event: web_sys::MouseEvent) {
    if event.default_prevented() || event.button() != 0 || event.meta_key() || event.alt_key() || event.ctrl_key() || event.shift_key() {
        return;
    }
    let link = event
        .target()
        .and_then(|target| target.dyn_into::<web_sys::Element>().ok())
        .and_then(|element| element.closest("a[href]").ok().flatten())
        .and_then(|element| element.dyn_into::<web_sys::HtmlAnchorElement>().ok());
    let Some(link) = link else { return };
    let external = link.get_attribute("rel").is_some_and(|rel| rel.split_ascii_whitespace().any(|word| word == "external"));
    let target = link.target();
    if !(target.is_empty() || target == "_self") || link.has_attribute("download") || external {
        return;
    }
    let here = window().location();
    if link.origin() != here.origin().unwrap_or_default() {
        return;
    }
    let (path, search, hash) = (link.pathname(), link.search(), link.hash());
    if Route::of(&path) == Route::NotFound {
        return;
    }
    if !hash.is_empty() && Some(&path) == here.pathname().ok().as_ref() && Some(&search) == here.search().ok().as_ref() {
        return;
    }
    event.prevent_default();
    // A link to a part of a page lets the browser find that part.
    navigate_with(&format!("{path}{search}{hash}"), Go { replace: false, scroll: hash.is_empty() });
}
