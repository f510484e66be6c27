//! `/destinations`: the alert destinations, their state, and the way to
//! create, continue, edit, switch off or delete one.

use herald_model::account::Permission;
use herald_model::destination::{DestinationStatus, DestinationView, SocketModeState};
use herald_model::time::short_utc;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;
use crate::auth::Auth;
use crate::components::handler;
use crate::components::notice::{Loader, Outcome, OutcomeNotice, loaded};
use crate::router;

#[component]
pub fn Destinations() -> impl IntoView {
    crate::components::title::set_title("Alert Destinations");
    let destinations = Loader::new(api::list_destinations);
    let reload = destinations.reloader();
    let may_manage = move || Auth::get().may(Permission::ManageDestinations);
    view! {
        <section class="page">
            <header class="page-header">
                <h1>"Alert Destinations"</h1>
                <Show when=may_manage>
                    <a class="button primary" href="/destinations/new">"Create New"</a>
                </Show>
            </header>
            {loaded("destinations", destinations, move |list| view! { <DestinationTable destinations=list.destinations reload manage=may_manage() /> }.into_any())}
        </section>
    }
}

#[component]
fn DestinationTable(destinations: Vec<DestinationView>, reload: Callback<()>, manage: bool) -> impl IntoView {
    if destinations.is_empty() {
        return view! {
            <div class="empty">
                <p>"No alert destinations yet."</p>
                <p>"Create one to send alerts to a Slack channel."</p>
            </div>
        }
        .into_any();
    }
    let outcome = RwSignal::new(None::<Outcome>);
    view! {
        <OutcomeNotice outcome />
        <table class="list destinations">
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
                {destinations.into_iter().map(|d| view! { <Row d reload outcome manage /> }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

/// "High, Critical · Alerts, System Errors · all log types".
fn filters(d: &DestinationView) -> String {
    let severities: Vec<&str> = d.settings.severities.iter().map(|s| s.label()).collect();
    let kinds: Vec<&str> = d.settings.alert_kinds.iter().map(|k| k.label()).collect();
    let logs = match d.settings.log_types.len() {
        0 => "all log types".to_owned(),
        1 => d.settings.log_types[0].clone(),
        n => format!("{n} log types"),
    };
    format!("{} · {} · {logs}", severities.join(", "), kinds.join(", "))
}

/// "Last delivery 2026-11-29 10:29 UTC · 2 failures in 24 h".
fn health(d: &DestinationView) -> String {
    let health = d.health.clone().unwrap_or_default();
    let last = health.last_sent_at.as_deref().map_or_else(|| "No delivery yet".to_owned(), |at| format!("Last delivery {}", short_utc(at)));
    let failures = match health.failures_24h {
        0 => return last,
        1 => format!("{last} · 1 failure in 24 h"),
        n => format!("{last} · {n} failures in 24 h"),
    };
    match &health.last_error {
        Some(error) => format!("{failures} · last error: {error}"),
        None => failures,
    }
}

#[component]
fn Row(d: DestinationView, reload: Callback<()>, outcome: RwSignal<Option<Outcome>>, manage: bool) -> impl IntoView {
    let confirming = RwSignal::new(false);
    let (id_toggle, id_delete, id_welcome) = (d.id.clone(), d.id.clone(), d.id.clone());
    let status = d.status;
    let name = if d.settings.display_name.is_empty() { "(unnamed)".to_owned() } else { d.settings.display_name.clone() };
    let act = move |result: std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), api::ApiError>>>>| {
        spawn_local(async move {
            match result.await {
                Ok(()) => {
                    outcome.set(None);
                    reload.run(());
                }
                Err(err) => outcome.set(Some(Outcome { ok: false, message: err.message })),
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
    // The welcome message, from here too: a quick proof that the path to
    // the channel works. Its answer goes to the page's one outcome line.
    let welcome_name = name.clone();
    let welcome = move |_| {
        let (id, name) = (id_welcome.clone(), welcome_name.clone());
        outcome.set(Some(Outcome { ok: true, message: format!("{name}: sending the welcome message…") }));
        spawn_local(async move {
            let (ok, message) = match api::send_welcome(&id).await {
                Ok(o) => (o.sent, o.message),
                Err(err) => (false, err.message),
            };
            outcome.set(Some(Outcome { ok, message: format!("{name}: {message}") }));
        });
    };
    let status_cell = match d.status {
        DestinationStatus::Draft if manage => view! { <span class="status draft">"Setup incomplete"</span> }.into_any(),
        status => view! { <span class=format!("status {}", status.as_str().to_ascii_lowercase())>{status.label()}</span> }.into_any(),
    };
    // One primary action a row: finish the setup of a draft, edit the rest;
    // everything else sits in the row's menu.
    let primary = if d.status == DestinationStatus::Draft {
        view! { <a class="button primary" href=format!("/destinations/{}/setup/{}", router::segment(&d.id), d.wizard_step.max(2))>"Continue setup"</a> }
            .into_any()
    } else {
        view! { <a class="button" href=format!("/destinations/{}/edit", router::segment(&d.id))>"Edit"</a> }.into_any()
    };
    let menu_label = format!("More actions for {name}");
    view! {
        <tr data-destination=d.settings.display_name.clone()>
            <td class="name">{name.clone()}</td>
            <td class="channel" data-label="Channel">{d.settings.channel.clone()}</td>
            <td class="filters" data-label="Sends">{filters(&d)}</td>
            <td>
                {status_cell}
                {d.problem.clone().map(|p| view! { <p class="status problem">{p}</p> })}
                {(d.status != DestinationStatus::Draft).then(|| view! { <p class="health">{health(&d)}</p> })}
                {d.socket_mode.as_ref().map(|s| {
                    let class = if s.state == SocketModeState::Connected { "socket-mode" } else { "socket-mode problem" };
                    view! { <p class=class>{s.summary()}</p> }
                })}
            </td>
            <td class="actions">
                {manage.then(move || view! {
                    {primary}
                    <details class="row-menu">
                        <summary class="button quiet" aria-label=menu_label.clone()>"More"</summary>
                        <div class="row-menu-items">
                            {(status != DestinationStatus::Draft).then(|| view! {
                                <button type="button" class="button quiet" on:click=handler(welcome.clone())>"Send welcome message"</button>
                                <button type="button" class="button quiet" on:click=handler(toggle.clone())>
                                    {if status == DestinationStatus::Active { "Disable" } else { "Enable" }}
                                </button>
                            })}
                            <Show
                                when=move || confirming.get()
                                fallback=move || view! {
                                    <button type="button" class="button quiet" on:click=handler(move |_| confirming.set(true))>
                                        {if status == DestinationStatus::Draft { "Delete draft" } else { "Delete" }}
                                    </button>
                                }
                            >
                                <button type="button" class="button danger" on:click=handler(move |_| delete.run(()))>"Confirm delete"</button>
                                <button type="button" class="button quiet" on:click=handler(move |_| confirming.set(false))>"Keep"</button>
                            </Show>
                        </div>
                    </details>
                })}
            </td>
        </tr>
    }
}
