//! `/destinations`: the alert destinations, their state, and the way to
//! create, continue, edit, switch off or delete one.

use herald_model::account::Permission;
use herald_model::destination::{DestinationStatus, DestinationSummary};
use herald_model::time::short_utc;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;
use crate::auth::Auth;
use crate::components::notice::{ErrorNotice, FormError, Loading};

#[component]
pub fn Destinations() -> impl IntoView {
    let destinations = LocalResource::new(api::list_destinations);
    let reload = Callback::new(move |()| destinations.refetch());
    let may_manage = move || Auth::get().may(Permission::ManageDestinations);
    view! {
        <section class="page">
            <header class="page-header">
                <h1>"Alert Destinations"</h1>
                <Show when=may_manage>
                    <a class="button primary" href="/destinations/new">"Create New"</a>
                </Show>
            </header>
            <Suspense fallback=|| view! { <Loading what="destinations" /> }>
                {move || Suspend::new(async move {
                    match destinations.await {
                        Ok(list) => view! { <DestinationTable destinations=list.destinations reload manage=may_manage() /> }.into_any(),
                        Err(error) => view! { <ErrorNotice error retry=reload /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn DestinationTable(destinations: Vec<DestinationSummary>, reload: Callback<()>, manage: bool) -> impl IntoView {
    if destinations.is_empty() {
        return view! {
            <div class="empty">
                <p>"No alert destinations yet."</p>
                <p>"Create one to send alerts to a Slack channel."</p>
            </div>
        }
        .into_any();
    }
    let error = RwSignal::new(None::<String>);
    view! {
        <FormError error=error.into() />
        <table class="list">
            <thead>
                <tr>
                    <th scope="col">"Name"</th>
                    <th scope="col">"Channel"</th>
                    <th scope="col">"Sends"</th>
                    <th scope="col">"Status"</th>
                    <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                </tr>
            </thead>
            <tbody>
                {destinations.into_iter().map(|d| view! { <Row d reload error manage /> }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

/// "High, Critical · Alerts, System Errors · all log types".
fn filters(d: &DestinationSummary) -> String {
    let severities: Vec<&str> = d.severities.iter().map(|s| s.label()).collect();
    let kinds: Vec<&str> = d.alert_kinds.iter().map(|k| k.label()).collect();
    let logs = match d.log_types.len() {
        0 => "all log types".to_owned(),
        1 => d.log_types[0].clone(),
        n => format!("{n} log types"),
    };
    format!("{} · {} · {logs}", severities.join(", "), kinds.join(", "))
}

/// "Last delivery 2026-11-29 10:29 UTC · 2 failures in 24 h".
fn health(d: &DestinationSummary) -> String {
    let last = d.health.last_sent_at.as_deref().map_or_else(|| "No delivery yet".to_owned(), |at| format!("Last delivery {}", short_utc(at)));
    let failures = match d.health.failures_24h {
        0 => return last,
        1 => format!("{last} · 1 failure in 24 h"),
        n => format!("{last} · {n} failures in 24 h"),
    };
    match &d.health.last_error {
        Some(error) => format!("{failures} · last error: {error}"),
        None => failures,
    }
}

#[component]
fn Row(d: DestinationSummary, reload: Callback<()>, error: RwSignal<Option<String>>, manage: bool) -> impl IntoView {
    let confirming = RwSignal::new(false);
    let (id_toggle, id_delete) = (d.id.clone(), d.id.clone());
    let status = d.status;
    let act = move |result: std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), api::ApiError>>>>| {
        spawn_local(async move {
            match result.await {
                Ok(()) => {
                    error.set(None);
                    reload.run(());
                }
                Err(err) => error.set(Some(err.message)),
            }
        });
    };
    let toggle = move |_| {
        let id = id_toggle.clone();
        act(Box::pin(async move { api::set_destination_enabled(&id, status != DestinationStatus::Active).await.map(|_| ()) }));
    };
    let delete = Callback::new(move |()| {
        let id = id_delete.clone();
        act(Box::pin(async move { api::delete_destination(&id).await }));
    });
    // The welcome message, from here too: a quick test that the path works.
    let tested = RwSignal::new(None::<(bool, String)>);
    let id_test = d.id.clone();
    let test = move |_| {
        let id = id_test.clone();
        spawn_local(async move {
            let outcome = match api::send_welcome(&id).await {
                Ok(o) => (o.sent, o.message),
                Err(err) => (false, err.message),
            };
            tested.set(Some(outcome));
        });
    };
    let status_cell = match d.status {
        DestinationStatus::Draft if manage => view! {
            <span class="status draft">"Setup incomplete — "</span>
            <a href=format!("/destinations/{}/setup/{}", d.id, d.wizard_step.max(2))>"Continue"</a>
        }
        .into_any(),
        status => view! { <span class=format!("status {}", status.as_str().to_lowercase())>{status.label()}</span> }.into_any(),
    };
    view! {
        <tr data-destination=d.display_name.clone()>
            <td>{if d.display_name.is_empty() { "(unnamed)".to_owned() } else { d.display_name.clone() }}</td>
            <td class="channel">{d.channel.clone()}</td>
            <td class="filters">{filters(&d)}</td>
            <td>
                {status_cell}
                {d.problem.clone().map(|p| view! { <p class="status problem">{p}</p> })}
                {(d.status != DestinationStatus::Draft).then(|| view! { <p class="health">{health(&d)}</p> })}
                {move || tested.get().map(|(sent, message)| {
                    let class = if sent { "status tested ok" } else { "status problem" };
                    view! { <p class=class role="status">{message}</p> }
                })}
            </td>
            <td class="actions">
                <Show when=move || manage>
                    {(status != DestinationStatus::Draft).then(|| view! {
                        <button type="button" class="button quiet" on:click=test.clone()>"Send test message"</button>
                        <a class="button quiet" href=format!("/destinations/{}/edit", d.id)>"Edit"</a>
                        <button type="button" class="button quiet" on:click=toggle.clone()>
                            {if status == DestinationStatus::Active { "Disable" } else { "Enable" }}
                        </button>
                    })}
                    <Show
                        when=move || confirming.get()
                        fallback=move || view! { <button type="button" class="button quiet" on:click=move |_| confirming.set(true)>"Delete"</button> }
                    >
                        <button type="button" class="button danger" on:click=move |_| delete.run(())>"Confirm delete"</button>
                        <button type="button" class="button quiet" on:click=move |_| confirming.set(false)>"Keep"</button>
                    </Show>
                </Show>
            </td>
        </tr>
    }
}
