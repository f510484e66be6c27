//! `/destinations/:id/edit`: change a destination's settings.

use herald_model::destination::DestinationView;
use leptos::prelude::*;

use crate::api;
use crate::components::destination_form::DestinationForm;
use crate::components::notice::{Loader, loaded};
use crate::router;

#[component]
pub fn EditDestination(id: String) -> impl IntoView {
    crate::components::title::set_title("Edit Destination");
    let destination = Loader::new(move || {
        let id = id.clone();
        async move { api::destination(&id).await }
    });
    let saved = Callback::new(move |_: DestinationView| router::navigate("/destinations"));
    view! {
        <section class="page">
            <header class="page-header">
                <h1>"Edit destination"</h1>
                <a class="button" href="/destinations">"Cancel"</a>
            </header>
            {loaded("the destination", destination, move |d| view! { <DestinationForm destination=d saved submit_label="Save" /> }.into_any())}
        </section>
    }
}
