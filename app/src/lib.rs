//! Herald's web app: a client-side rendered Leptos app. Every page lives in
//! `pages/`, shared pieces in `components/`, and every server call goes
//! through `api.rs`.

mod api;
mod components;
mod pages;

use leptos::prelude::*;
use leptos_router::components::{Redirect, Route, Router, Routes};
use leptos_router::path;
use wasm_bindgen::prelude::wasm_bindgen;

use components::shell::Shell;

#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(App);
}

#[component]
fn App() -> impl IntoView {
    view! {
        <Router>
            <Shell>
                <Routes fallback=pages::not_found::NotFound>
                    <Route path=path!("/") view=|| view! { <Redirect path="/destinations" /> } />
                    <Route path=path!("/destinations") view=pages::destinations::Destinations />
                    <Route path=path!("/destinations/new") view=pages::new_destination::NewDestination />
                </Routes>
            </Shell>
        </Router>
    }
}
