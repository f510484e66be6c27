//! Herald's web app: a client-side rendered Leptos app. Every page lives in
//! `pages/`, shared pieces in `components/`, and every server call goes
//! through `api.rs`.

mod api;
mod auth;
mod components;
mod pages;
mod router;

use leptos::prelude::*;
use wasm_bindgen::prelude::wasm_bindgen;

use auth::{Auth, protected};
use components::shell::Shell;
use herald_model::account::Permission;
use pages::alerts::{AlertPage, Alerts};
use pages::destinations::Destinations;
use pages::edit_destination::EditDestination;
use pages::new_destination::NewDestination;
use pages::not_found::NotFound;
use pages::setup::Setup;
use pages::sign_in::SignIn;
use pages::tokens::Tokens;
use pages::users::Users;
use router::Route;

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
    let location = router::start();
    // Only a change of page draws a new one: the wizard's step and the
    // alert filters are read by the page itself.
    let route = Memo::new(move |_| Route::of(&location.path.get()));
    let page = move || match route.get() {
        Route::Home => {
            router::redirect("/destinations".to_owned());
            ().into_any()
        }
        Route::SignIn => view! { <SignIn /> }.into_any(),
        Route::Alerts => protected(Permission::ViewAlerts, || view! { <Alerts /> }.into_any()),
        Route::Alert(id) => protected(Permission::ViewAlerts, move || view! { <AlertPage id=id.clone() /> }.into_any()),
        Route::Destinations => protected(Permission::ViewAlerts, || view! { <Destinations /> }.into_any()),
        Route::NewDestination => protected(Permission::ManageDestinations, || view! { <NewDestination /> }.into_any()),
        Route::Setup(id) => protected(Permission::ManageDestinations, move || view! { <Setup id=id.clone() /> }.into_any()),
        Route::EditDestination(id) => {
            protected(Permission::ManageDestinations, move || view! { <EditDestination id=id.clone() /> }.into_any())
        }
        Route::Users => protected(Permission::ManageUsers, || view! { <Users /> }.into_any()),
        Route::Tokens => protected(Permission::ManageApiTokens, || view! { <Tokens /> }.into_any()),
        Route::NotFound => view! { <NotFound /> }.into_any(),
    };
    view! { <Shell>{page}</Shell> }
}
