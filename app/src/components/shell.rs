//! The frame around every page: header, navigation, content.

use leptos::prelude::*;
use leptos_router::components::A;

#[component]
pub fn Shell(children: Children) -> impl IntoView {
    view! {
        <header class="topbar">
            <a class="brand" href="/">
                <img src="/favicon.svg" alt="" width="24" height="24" />
                "Herald"
            </a>
            <nav aria-label="Main">
                <A href="/destinations">"Alert Destinations"</A>
            </nav>
        </header>
        <main class="content">{children()}</main>
    }
}
