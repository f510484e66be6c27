//! `/destinations/:id/edit`: change a destination's settings.

use herald_model::destination::DestinationView;
use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_params_map};

use crate::api;
use crate::components::destination_form::DestinationForm;
use crate::components::notice::loaded;

#[component]
pub fn EditDestination() -> impl IntoView {
    crate::components::title::set_title("Edit Destination");
    let params = use_params_map();
    let id = Memo::new(move |_| params.read().get("id").unwrap_or_default());
    let destination = LocalResource::new(move || {
        let id = id.get();
        async move { api::destination(&id).await }
    });
    let navigate = use_navigate();
    let saved = Callback::new(move |_: DestinationView| navigate("/destinations", Default::default()));
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
