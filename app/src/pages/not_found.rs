//! Any path the app does not know.

use leptos::prelude::*;

#[component]
pub fn NotFound() -> impl IntoView {
    crate::components::title::set_title("Page not found");
    view! {
        <section class="page">
            <h1>"Page not found"</h1>
            <p>"There is nothing here. "<a href="/destinations">"Go to Alert Destinations"</a>"."</p>
        </section>
    }
}
