//! Herald's web app: a client-side rendered Leptos app. Every page lives in
//! `pages/`, shared pieces in `components/`, and every server call goes
//! through `api.rs`.

mod api;
mod auth;
mod components;
mod pages;

use leptos::prelude::*;
use leptos_router::components::{Redirect, Route, Router, Routes};
use leptos_router::path;
use wasm_bindgen::prelude::wasm_bindgen;

use auth::{Auth, Protected};
use components::shell::Shell;
use herald_model::account::Permission;
use pages::alerts::{AlertPage, Alerts};
use pages::destinations::Destinations;
use pages::edit_destination::EditDestination;
use pages::setup::Setup;
use pages::new_destination::NewDestination;
use pages::tokens::Tokens;
use pages::users::Users;

#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
    // index.html's shell stood in for the app while it loaded.
    if let Some(shell) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.get_element_by_id("boot-shell")) {
        shell.remove();
    }
    leptos::mount::mount_to_body(App);
}

#[component]
fn App() -> impl IntoView {
    Auth::provide();
    view! {
        <Router>
            <Shell>
                <Routes fallback=pages::not_found::NotFound>
                    <Route path=path!("/") view=|| view! { <Redirect path="/destinations" /> } />
                    <Route path=path!("/sign-in") view=pages::sign_in::SignIn />
                    <Route
                        path=path!("/alerts")
                        view=|| view! { <Protected permission=Permission::ViewAlerts><Alerts /></Protected> }
                    />
                    <Route
                        path=path!("/alerts/:id")
                        view=|| view! { <Protected permission=Permission::ViewAlerts><AlertPage /></Protected> }
                    />
                    <Route
                        path=path!("/destinations")
                        view=|| view! { <Protected permission=Permission::ViewAlerts><Destinations /></Protected> }
                    />
                    <Route
                        path=path!("/destinations/new")
                        view=|| view! { <Protected permission=Permission::ManageDestinations><NewDestination /></Protected> }
                    />
                    <Route
                        path=path!("/destinations/:id/setup/:step")
                        view=|| view! { <Protected permission=Permission::ManageDestinations><Setup /></Protected> }
                    />
                    <Route
                        path=path!("/destinations/:id/edit")
                        view=|| view! { <Protected permission=Permission::ManageDestinations><EditDestination /></Protected> }
                    />
                    <Route
                        path=path!("/users")
                        view=|| view! { <Protected permission=Permission::ManageUsers><Users /></Protected> }
                    />
                    <Route
                        path=path!("/tokens")
                        view=|| view! { <Protected permission=Permission::ManageApiTokens><Tokens /></Protected> }
                    />
                </Routes>
            </Shell>
        </Router>
    }
}
