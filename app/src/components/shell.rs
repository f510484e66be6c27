//! The frame around every page: header, navigation by permission, the
//! signed-in user and sign-out, content.

use herald_model::account::Permission;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;
use crate::auth::Auth;
use crate::components::handler;
use crate::router;

#[component]
pub fn Shell(children: Children) -> impl IntoView {
    let auth = Auth::get();
    let sign_out = move |_| {
        spawn_local(async move {
            // Signed out locally even if the server is gone: the cookie is
            // HttpOnly, and the server forgets the session when it can.
            let _ = api::sign_out().await;
            // A fresh page load, not a route change: the page being left is
            // torn down whole (nothing of it runs on with a disposed owner),
            // and nothing the last person saw stays in memory.
            if let Some(window) = web_sys::window() {
                let _ = window.location().replace("/sign-in");
            }
        });
    };
    // On a phone the navigation folds behind a Menu button; a click on
    // anything in it (a page, Sign out) folds it again.
    let menu_open = RwSignal::new(false);
    view! {
        <header class="topbar" class:open=move || menu_open.get()>
            <a class="brand" href="/">
                <img src="/favicon.svg" alt="" width="24" height="24" />
                "Herald"
            </a>
            <Show when=move || auth.me().is_some()>
                <button type="button" class="button quiet menu-toggle" aria-controls="main-menu"
                    aria-expanded=move || menu_open.get().to_string()
                    on:click=handler(move |_| menu_open.update(|open| *open = !*open))>
                    "Menu"
                </button>
                <div class="menu" id="main-menu" on:click=handler(move |_| menu_open.set(false))>
                <nav aria-label="Main">
                    {nav_link("/alerts", "Alerts")}
                    {nav_link("/destinations", "Alert Destinations")}
                    <Show when=move || auth.may(Permission::ManageUsers)>
                        {nav_link("/users", "Users")}
                    </Show>
                    <Show when=move || auth.may(Permission::ManageApiTokens)>
                        {nav_link("/tokens", "API Tokens")}
                    </Show>
                </nav>
                <div class="account">
                    <span class="who">{move || auth.me().map(|me| me.user.display_name)}</span>
                    <button type="button" class="button quiet" on:click=handler(sign_out)>"Sign out"</button>
                </div>
                </div>
            </Show>
        </header>
        <main class="content">{children()}</main>
    }
}

/// A link in the navigation, marked while its page (or one below it) is shown.
fn nav_link(href: &'static str, label: &'static str) -> impl IntoView {
    view! { <a href=href aria-current=move || router::is_current(href).then_some("page")>{label}</a> }
}
