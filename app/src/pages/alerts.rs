//! `/alerts` and `/alerts/:id`: the alerts Herald received, filtered by
//! severity, status and time, and one alert with where its messages went
//! (queued, sent with a link, retrying, failed and why) and Re-send. Both
//! pages refresh themselves while open, so deliveries are seen to progress.

use herald_model::account::Permission;
use herald_model::alert::{
    AlertList, AlertPatch, AlertStatus, AlertSummary, AlertView, AssigneeView, DeliveryState, DeliveryView, NewComment,
};
use herald_model::destination::Severity;
use herald_model::time::short_utc;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::{self, ApiError};
use crate::auth::Auth;
use crate::components::fields::SelectField;
use crate::components::handler;
use crate::components::notice::{ErrorNotice, FormError, Loading};
use crate::router;

const REFRESH: std::time::Duration = std::time::Duration::from_secs(3);

/// Calls `load` now and every few seconds while the page is open.
fn keep_fresh(load: impl Fn() + Clone + 'static) {
    load();
    if let Ok(handle) = set_interval_with_handle(load, REFRESH) {
        on_cleanup(move || handle.clear());
    }
}

fn delivery_class(state: Option<DeliveryState>) -> String {
    format!("delivery {}", state.map_or("none", |s| s.label()))
}

/// Periods the list offers, in hours; 0 is "any time".
const PERIODS: [(&str, u32); 4] = [("Last hour", 1), ("Last 24 hours", 24), ("Last 7 days", 168), ("Any time", 0)];

#[component]
pub fn Alerts() -> impl IntoView {
    crate::components::title::set_title("Alerts");
    // The filters live in the address (`?severity=HIGH&status=OPEN&hours=24`),
    // so a reload, Back, or a link sent to a colleague keeps them.
    let from_query = |key: &'static str| Memo::new(move |_| router::query(key).unwrap_or_default());
    let severity = from_query("severity");
    let status = from_query("status");
    let hours_text = from_query("hours");
    let hours = Memo::new(move |_| hours_text.get().parse::<u32>().unwrap_or(0));
    // `events=repeated`: only alerts that events were folded into.
    let events = from_query("events");
    let set_filter = move |key: &'static str, value: String| {
        let mut pairs: Vec<(String, String)> = [
            ("severity", severity.get_untracked()),
            ("status", status.get_untracked()),
            ("hours", hours_text.get_untracked()),
            ("events", events.get_untracked()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), if k == key { value.clone() } else { v }))
        // Empty filters and "any time" (0 hours) stay out of the URL.
        .filter(|(k, v)| !(v.is_empty() || k == "hours" && v == "0"))
        .collect();
        pairs.sort();
        let search: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={}", String::from(js_sys::encode_uri_component(v)))).collect();
        let url = if search.is_empty() { "/alerts".to_owned() } else { format!("/alerts?{}", search.join("&")) };
        router::navigate_with(&url, router::Go { replace: true, scroll: false });
    };
    let filter = move |key: &'static str| Callback::new(move |value: String| set_filter(key, value));
    let any = || std::iter::once((String::new(), "Any"));
    let filtered = move || !severity.get().is_empty() || !status.get().is_empty() || hours.get() > 0 || !events.get().is_empty();
    let alerts = RwSignal::new(None::<Result<AlertList, ApiError>>);
    let busy = StoredValue::new(false);
    let load = move || {
        if busy.get_value() {
            return;
        }
        busy.set_value(true);
        let mut query = vec!["limit=200".to_owned()];
        let (s, st, h) = (severity.get_untracked(), status.get_untracked(), hours.get_untracked());
        if !s.is_empty() {
            query.push(format!("severity={s}"));
        }
        if !st.is_empty() {
            query.push(format!("status={st}"));
        }
        if events.get_untracked() == "repeated" {
            query.push("repeated=true".to_owned());
        }
        if h > 0 {
            let since = js_sys::Date::new(&(js_sys::Date::now() - f64::from(h) * 3_600_000.0).into());
            query.push(format!("since={}", String::from(since.to_iso_string())));
        }
        spawn_local(async move {
            alerts.set(Some(api::list_alerts(&query.join("&")).await));
            busy.set_value(false);
        });
    };
    keep_fresh(load);
    Effect::new(move |first: Option<()>| {
        severity.track();
        status.track();
        hours.track();
        events.track();
        if first.is_some() {
            load();
        }
    });
    let reload = Callback::new(move |()| load());
    view! {
        <section class="page">
            <header class="page-header">
                <h1>"Alerts"</h1>
            </header>
            <form class="filters" on:submit=handler(|e: leptos::ev::SubmitEvent| e.prevent_default())>
                <SelectField label="Severity" name="severity" value=severity.into() changed=filter("severity")
                    options=any().chain(Severity::ALL.into_iter().rev().map(|s| (s.as_str().to_owned(), s.label()))).collect() />
                <SelectField label="Status" name="status" value=status.into() changed=filter("status")
                    options=any().chain(AlertStatus::ALL.into_iter().map(|s| (s.as_str().to_owned(), s.label()))).collect() />
                <SelectField label="Time" name="hours" value=Signal::derive(move || hours.get().to_string()) changed=filter("hours")
                    options=PERIODS.into_iter().map(|(label, h)| (h.to_string(), label)).collect() />
                <SelectField label="Events" name="events" value=events.into() changed=filter("events")
                    options=any().chain([("repeated".to_owned(), "Repeated (×2 or more)")]).collect() />
            </form>
            {move || match alerts.get() {
                None => view! { <Loading what="alerts" /> }.into_any(),
                Some(Err(error)) => view! { <ErrorNotice error retry=reload /> }.into_any(),
                Some(Ok(list)) if list.alerts.is_empty() && filtered() => view! {
                    <div class="empty">
                        <p>"No alerts match these filters."</p>
                        <p><a class="button" href="/alerts">"Clear filters"</a></p>
                    </div>
                }
                .into_any(),
                Some(Ok(list)) if list.alerts.is_empty() => view! {
                    <div class="empty">
                        <p>"No alerts yet."</p>
                        <p>"Detection pipelines send alerts with POST /api/alerts and an API token."</p>
                    </div>
                }
                .into_any(),
                Some(Ok(list)) => view! { <AlertTable alerts=list.alerts /> }.into_any(),
            }}
        </section>
    }
}

#[component]
fn AlertTable(alerts: Vec<AlertSummary>) -> impl IntoView {
    view! {
        <table class="list alerts">
            <thead>
                <tr>
                    <th scope="col">"Time"</th>
                    <th scope="col">"Severity"</th>
                    <th scope="col">"Title"</th>
                    <th scope="col">"Status"</th>
                    <th scope="col">"Delivery"</th>
                </tr>
            </thead>
            <tbody>
                {alerts
                    .into_iter()
                    .map(|a| {
                        let href = format!("/alerts/{}", router::segment(&a.id));
                        view! {
                            <tr data-alert=a.id.clone()>
                                <td class="time">{short_utc(&a.created_at)}</td>
                                <td><span class=format!("severity {}", a.severity.as_str().to_ascii_lowercase())>{a.severity.label()}</span></td>
                                <td>
                                    <a href=href>{a.title}</a>
                                    {(a.event_count > 1).then(|| view! {
                                        " "<span class="count" title="Events folded into this alert">{format!("×{}", a.event_count)}</span>
                                    })}
                                </td>
                                <td data-label="Status">{a.status.label()}</td>
                                <td data-label="Delivery" class=delivery_class(a.delivery)>{a.delivery.map_or("not routed", |d| d.label())}</td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
}

#[component]
pub fn AlertPage(id: String) -> impl IntoView {
    crate::components::title::set_title("Alert");
    let id = StoredValue::new(id);
    let id = move || id.get_value();
    let alert = RwSignal::new(None::<Result<AlertView, ApiError>>);
    let error = RwSignal::new(None::<String>);
    // Bumped by every change made here: a refresh that started before it
    // is dropped, so the page never shows the alert as it was.
    let version = StoredValue::new(0u64);
    let load = move || {
        let id = id();
        let started = version.get_value();
        spawn_local(async move {
            let fresh = api::alert(&id).await;
            if version.get_value() != started {
                return;
            }
            // A refresh that fails keeps what is shown; an unchanged alert
            // is not drawn again (open selects stay open, typing stays).
            let keep = matches!((&fresh, alert.get_untracked()), (Err(_), Some(Ok(_))));
            if !keep && alert.with_untracked(|shown| shown.as_ref() != Some(&fresh)) {
                alert.set(Some(fresh));
            }
        });
    };
    let changed = move |view: AlertView| {
        version.update_value(|v| *v += 1);
        alert.set(Some(Ok(view)));
    };
    keep_fresh(load);
    let reload = Callback::new(move |()| load());
    let resend = Callback::new(move |destination: Option<String>| {
        let id = id();
        spawn_local(async move {
            match api::resend_alert(&id, destination.as_deref()).await {
                Ok(view) => {
                    error.set(None);
                    changed(view);
                }
                Err(err) => error.set(Some(err.message)),
            }
        });
    });
    let assignees = RwSignal::new(Vec::<AssigneeView>::new());
    spawn_local(async move {
        if let Ok(list) = api::assignees().await {
            assignees.set(list.users);
        }
    });
    // "Saved", next to the controls, once the server has the change.
    let saved = RwSignal::new(None::<String>);
    let change = Callback::new(move |patch: AlertPatch| {
        let id = id();
        saved.set(Some("Saving…".to_owned()));
        spawn_local(async move {
            match api::update_alert(&id, &patch).await {
                Ok(view) => {
                    error.set(None);
                    let what = if patch.status.is_some() {
                        format!("Saved: the status is {}.", view.status.label())
                    } else {
                        format!("Saved: assigned to {}.", view.assignee.as_ref().map_or("nobody", |a| a.name.as_str()))
                    };
                    saved.set(Some(what));
                    changed(view);
                }
                Err(err) => {
                    saved.set(None);
                    error.set(Some(err.message));
                }
            }
        });
    });
    let manage = Auth::get().may(Permission::ManageAlerts);
    view! {
        <section class="page">
            {move || match alert.get() {
                None => view! { <Loading what="the alert" /> }.into_any(),
                Some(Err(e)) => view! { <ErrorNotice error=e retry=reload /> }.into_any(),
                Some(Ok(a)) => view! { <AlertDetails a resend change assignees=assignees.get() error saved /> }.into_any(),
            }}
            // Outside the part that refreshes, so typing is never lost.
            <Show when=move || manage && matches!(alert.get(), Some(Ok(_)))>
                <CommentBox id=id() done=Callback::new(changed) />
            </Show>
        </section>
    }
}

#[component]
fn CommentBox(id: String, done: Callback<AlertView>) -> impl IntoView {
    let text = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let submit = move |e: leptos::ev::SubmitEvent| {
        e.prevent_default();
        let id = id.clone();
        let comment = NewComment { comment: text.get_untracked() };
        spawn_local(async move {
            match api::add_comment(&id, &comment).await {
                Ok(view) => {
                    text.set(String::new());
                    error.set(None);
                    done.run(view);
                }
                Err(err) => error.set(Some(err.field("comment").unwrap_or(err.message))),
            }
        });
    };
    view! {
        <form class="comment" on:submit=handler(submit)>
            <label for="comment">"Comment"</label>
            <textarea id="comment" name="comment" rows="3" prop:value=move || text.get()
                on:input=handler(move |e: leptos::ev::Event| text.set(event_target_value(&e)))></textarea>
            <FormError error=error.into() />
            <button type="submit" class="button">"Add comment"</button>
        </form>
    }
}

#[component]
fn AlertDetails(
    a: AlertView,
    resend: Callback<Option<String>>,
    change: Callback<AlertPatch>,
    assignees: Vec<AssigneeView>,
    error: RwSignal<Option<String>>,
    saved: RwSignal<Option<String>>,
) -> impl IntoView {
    crate::components::title::set_title(&format!("{}: {}", a.content.severity.label(), a.content.title));
    let manage = Auth::get().may(Permission::ManageAlerts);
    let current_status = a.status;
    let current_assignee = a.assignee.as_ref().and_then(|x| x.id.clone()).unwrap_or_default();
    let mut people = assignees;
    if let Some(x) = &a.assignee
        && !people.iter().any(|p| p.id == x.id)
    {
        people.push(x.clone());
    }
    let controls = manage.then(|| view! {
        <div class="triage">
            <label>
                "Status "
                <select name="status" on:change=handler(move |e: leptos::ev::Event| {
                    if let Some(status) = AlertStatus::parse(&event_target_value(&e)) {
                        change.run(AlertPatch { status: Some(status), assignee_id: None });
                    }
                })>
                    {AlertStatus::ALL.into_iter().map(|s| view! {
                        <option value=s.as_str() selected=s == current_status>{s.label()}</option>
                    }).collect_view()}
                </select>
            </label>
            <label>
                "Assignee "
                <select name="assignee" on:change=handler(move |e: leptos::ev::Event| change.run(AlertPatch { status: None, assignee_id: Some(event_target_value(&e)) }))>
                    <option value="" selected=current_assignee.is_empty()>"Nobody"</option>
                    {people.into_iter().map(|p| {
                        let value = p.id.clone().unwrap_or_default();
                        let selected = value == current_assignee;
                        view! { <option value=value selected=selected>{p.name}</option> }
                    }).collect_view()}
                </select>
            </label>
            <p class="saved" role="status">{move || saved.get()}</p>
        </div>
    });
    let activity = timeline(&a);
    let log_types = if a.content.log_types.is_empty() { "—".to_owned() } else { a.content.log_types.join(", ") };
    // Indented by the browser as it arrived (api::read_alert).
    let context = match &a.alert_context {
        Some(serde_json::Value::String(text)) => Some(text.clone()),
        _ => None,
    };
    view! {
        <header class="page-header">
            <h1>
                <span class=format!("severity {}", a.content.severity.as_str().to_ascii_lowercase())>{a.content.severity.label()}</span>
                " "
                {a.content.title.clone()}
            </h1>
            <a class="button quiet" href="/alerts">"All alerts"</a>
        </header>
        // Those who may change the status and assignee see them once, as
        // the controls; the others read them among the facts.
        {controls}
        <dl class="facts">
            {(!manage).then(|| view! {
                <dt>"Status"</dt><dd class="status">{a.status.label()}</dd>
                <dt>"Assignee"</dt><dd class="assignee">{a.assignee.as_ref().map_or_else(|| "Nobody".to_owned(), |x| x.name.clone())}</dd>
            })}
            <dt>"Alert type"</dt><dd>{a.content.alert_type.label()}</dd>
            <dt>"Detection"</dt><dd>{a.content.detection_id.clone().unwrap_or_else(|| "—".to_owned())}</dd>
            <dt>"Log types"</dt><dd>{log_types}</dd>
            <dt>"Created"</dt><dd>{short_utc(&a.created_at)}</dd>
            <dt>"Received"</dt><dd>{short_utc(&a.received_at)}</dd>
            {(a.event_count > 1).then(|| view! {
                <dt>"Events"</dt><dd class="events">{format!("×{} · last at {}", a.event_count, short_utc(&a.last_seen_at))}</dd>
            })}
            <dt>"Alert ID"</dt><dd><code>{a.id.clone()}</code></dd>
        </dl>
        {a.content.description.clone().map(|d| view! { <h2>"Description"</h2><p class="prose">{d}</p> })}
        {a.content.runbook.clone().map(|r| view! { <h2>"Runbook"</h2><p class="prose">{r}</p> })}
        {a.content.reference.clone().filter(|r| r.starts_with("https://") || r.starts_with("http://")).map(|r| view! {
            <p><a href=r.clone() rel="noreferrer noopener" target="_blank">"Reference"</a></p>
        })}
        <h2>"Deliveries"</h2>
        <FormError error=error.into() />
        {if a.deliveries.is_empty() {
            view! { <p class="empty">"No destination's filters matched this alert."</p> }.into_any()
        } else {
            view! {
                <table class="list deliveries">
                    <thead>
                        <tr>
                            <th scope="col">"Destination"</th>
                            <th scope="col">"State"</th>
                            <th scope="col">"Attempts"</th>
                            <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                        </tr>
                    </thead>
                    <tbody>
                        {a.deliveries.into_iter().map(|d| view! { <DeliveryRow d resend manage /> }).collect_view()}
                    </tbody>
                </table>
            }
            .into_any()
        }}
        {context.map(|c| view! { <h2>{if a.event_count > 1 { "Latest event's context" } else { "Alert context" }}</h2><pre class="context">{c}</pre> })}
        {(!a.earlier_events.is_empty()).then(|| view! {
            <h2>"Earlier events"</h2>
            <ol class="earlier-events">
                {a.earlier_events.into_iter().map(|e| view! {
                    <li>
                        <time>{short_utc(&e.at)}</time>
                        {e.context.map(|c| view! { <pre class="context">{c}</pre> })}
                    </li>
                }).collect_view()}
            </ol>
        })}
        <h2>"Activity"</h2>
        <ol class="timeline">
            {activity.into_iter().map(|entry| view! {
                <li>
                    <time>{short_utc(&entry.at)}</time>
                    " "
                    <span class="summary">{entry.summary}</span>
                    " "
                    <span class="source">{entry.source}</span>
                </li>
            }).collect_view()}
        </ol>
    }
}

/// One line of the alert's story.
struct Entry {
    at: String,
    summary: String,
    source: String,
}

/// The alert's story in time order: its arrival and where its messages
/// were posted (from its deliveries), then what people did (its history).
fn timeline(a: &AlertView) -> Vec<Entry> {
    let mut entries = vec![Entry { at: a.received_at.clone(), summary: "Received".to_owned(), source: "from the pipeline".to_owned() }];
    entries.extend(a.deliveries.iter().filter(|d| d.state == DeliveryState::Sent).map(|d| Entry {
        at: d.updated_at.clone(),
        summary: match &d.slack_channel {
            Some(channel) if !channel.is_empty() => format!("Posted to {} ({channel})", d.destination_name),
            _ => format!("Posted to {}", d.destination_name),
        },
        source: "in Slack".to_owned(),
    }));
    entries.extend(a.activity.iter().map(|e| Entry {
        at: e.at.clone(),
        summary: e.summary.clone(),
        source: format!("in {}", e.activity.source.label()),
    }));
    // RFC 3339 times in UTC sort as text; the sort is stable, so entries of
    // the same second keep their order.
    entries.sort_by(|x, y| x.at.cmp(&y.at));
    entries
}

#[component]
fn DeliveryRow(d: DeliveryView, resend: Callback<Option<String>>, manage: bool) -> impl IntoView {
    let state = match d.state {
        DeliveryState::Sent => {
            let link =
                d.permalink.clone().map(|href| view! { " · " <a href=href target="_blank" rel="noreferrer noopener">"open in Slack"</a> });
            view! { <span>"sent"</span>{link} }.into_any()
        }
        DeliveryState::Retrying => {
            let next = d.next_attempt_at.as_deref().map(short_utc).unwrap_or_default();
            view! {
                <span>{format!("retrying (next attempt {next})")}</span>
                {d.last_error.clone().map(|e| view! { <p class="status problem">{e}</p> })}
            }
            .into_any()
        }
        DeliveryState::Failed => view! {
            <span>"failed"</span>
            {d.last_error.clone().map(|e| view! { <p class="status problem">{e}</p> })}
        }
        .into_any(),
        other => view! { <span>{other.label()}</span> }.into_any(),
    };
    let destination = d.destination_id.clone();
    view! {
        <tr data-destination=d.destination_name.clone()>
            <td>{d.destination_name.clone()}</td>
            <td class=delivery_class(Some(d.state))>{state}</td>
            <td data-label="Attempts">{d.attempts}</td>
            <td class="actions">
                <Show when=move || manage>
                    <button type="button" class="button quiet" on:click=handler({
                        let destination = destination.clone();
                        move |_| resend.run(Some(destination.clone()))
                    })>"Re-send"</button>
                </Show>
            </td>
        </tr>
    }
}
