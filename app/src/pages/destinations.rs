//! `/destinations`: the alert destinations, and the way to create one.

use herald_model::destination::DestinationSummary;
use herald_model::time::short_utc;
use leptos::prelude::*;

use crate::api;
use crate::auth::Auth;
use herald_model::account::Permission;
use crate::components::notice::{ErrorNotice, Loading};

#[component]
pub fn Destinations() -> impl IntoView {
    let destinations = LocalResource::new(api::list_destinations);
    let retry = Callback::new(move |()| destinations.refetch());
    view! {
        <section class="page">
            <header class="page-header">
                <h1>"Alert Destinations"</h1>
                <Show when=move || Auth::get().may(Permission::ManageDestinations)>
                    <a class="button primary" href="/destinations/new">"Create New"</a>
                </Show>
            </header>
            <Suspense fallback=|| view! { <Loading what="destinations" /> }>
                {move || Suspend::new(async move {
                    match destinations.await {
                        Ok(list) => view! { <DestinationTable destinations=list.destinations /> }.into_any(),
                        Err(error) => view! { <ErrorNotice error retry /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn DestinationTable(destinations: Vec<DestinationSummary>) -> impl IntoView {
    if destinations.is_empty() {
        return view! {
            <div class="empty">
                <p>"No alert destinations yet."</p>
                <p>"Create one to send alerts to a Slack channel."</p>
            </div>
        }
        .into_any();
    }
    view! {
        <table class="list">
            <thead>
                <tr>
                    <th scope="col">"Name"</th>
                    <th scope="col">"Type"</th>
                    <th scope="col">"Created"</th>
                </tr>
            </thead>
            <tbody>
                {destinations
                    .into_iter()
                    .map(|d| view! {
                        <tr>
                            <td>{d.display_name}</td>
                            <td>{d.kind.label()}</td>
                            <td>{short_utc(&d.created_at)}</td>
                        </tr>
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}
