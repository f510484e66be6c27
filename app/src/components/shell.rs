//! The frame around every page: header, navigation by permission, the
//! signed-in user and sign-out, content.

use herald_model::account::Permission;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;

use crate::api;
use crate::auth::Auth;

#[component]
pub fn Shell(children: Children) -> impl IntoView {
    let auth = Auth::get();
    let navigate = use_navigate();
    let sign_out = move |_| {
        let navigate = navigate.clone();
        spawn_local(async move {
            // Signed out locally even if the server is gone: the cookie is
            // HttpOnly, and the server forgets the session when it can.
            let _ = api::sign_out().await;
            auth.session_ended();
            navigate("/sign-in", Default::default());
        });
    };
    view! {
        <header class="topbar">
            <a class="brand" href="/">
                <img src="/favicon.svg" alt="" width="24" height="24" />
                "Herald"
            </a>
            <Show when=move || auth.me().is_some()>
                <nav aria-label="Main">
                    <A href="/alerts">"Alerts"</A>
                    <A href="/destinations">"Alert Destinations"</A>
                    <Show when=move || auth.may(Permission::ManageUsers)>
                        <A href="/users">"Users"</A>
                    </Show>
                    <Show when=move || auth.may(Permission::ManageApiTokens)>
                        <A href="/tokens">"API Tokens"</A>
                    </Show>
                </nav>
                <div class="account">
                    <span class="who">{move || auth.me().map(|me| me.user.display_name)}</span>
                    <button type="button" class="button quiet" on:click=sign_out.clone()>"Sign out"</button>
                </div>
            </Show>
        </header>
        <main class="content">{children()}</main>
    }
}
