//! Which destinations an alert goes to. Pure: the destinations come in,
//! their IDs come out, so the whole rule is covered by table tests.

use herald_model::alert::AlertType;
use herald_model::alert::{Filters, NewAlert, matches};
use herald_model::destination::{DestinationStatus, Severity};

use crate::store::DestinationRecord;

/// The active destinations whose filters match, or, when the alert names
/// its destinations, those of them that are active. `Err` lists the named
/// IDs that do not exist.
pub fn route(
    severity: Severity,
    alert_type: AlertType,
    log_types: &[String],
    named: Option<&[String]>,
    destinations: &[DestinationRecord],
) -> Result<Vec<String>, Vec<String>> {
    if let Some(named) = named {
        let unknown: Vec<String> = named.iter().filter(|id| !destinations.iter().any(|d| &d.id == *id)).cloned().collect();
        if !unknown.is_empty() {
            return Err(unknown);
        }
        let mut ids: Vec<String> =
            destinations.iter().filter(|d| d.status == DestinationStatus::Active && named.contains(&d.id)).map(|d| d.id.clone()).collect();
        ids.dedup();
        return Ok(ids);
    }
    Ok(destinations
        .iter()
        .filter(|d| d.status == DestinationStatus::Active)
        .filter(|d| {
            let filters =
                Filters { severities: &d.settings.severities, alert_kinds: &d.settings.alert_kinds, log_types: &d.settings.log_types };
            matches(filters, severity, alert_type, log_types)
        })
        .map(|d| d.id.clone())
        .collect())
}

/// [`route`] for an ingested alert.
pub fn route_new(alert: &NewAlert, destinations: &[DestinationRecord]) -> Result<Vec<String>, Vec<String>> {
    route(alert.content.severity, alert.content.alert_type, &alert.content.log_types, alert.destinations.as_deref(), destinations)
}

#[cfg(test)]
mod tests {
    use herald_model::destination::{AlertKind, DestinationKind, DestinationSettings};

    use super::*;

    fn destination(id: &str, status: DestinationStatus, severities: &[Severity], kinds: &[AlertKind], logs: &[&str]) -> DestinationRecord {
        DestinationRecord {
            id: id.into(),
            kind: DestinationKind::SlackBot,
            status,
            wizard_step: 7,
            delivery_problem: None,
            settings: DestinationSettings {
                display_name: id.into(),
                channel: "#x".into(),
                client_id: "1.2".into(),
                severities: severities.to_vec(),
                alert_kinds: kinds.to_vec(),
                log_types: logs.iter().map(|s| s.to_string()).collect(),
                timezone: "UTC".into(),
                ..DestinationSettings::default()
            },
            dedup_window: 60,
            created_at: String::new(),
            updated_at: String::new(),
        }
    }

    #[test]
    fn routing_table() {
        use AlertKind::*;
        use DestinationStatus::*;
        use Severity::*;
        let all = Severity::ALL;
        let destinations = vec![
            destination("everything", Active, &all, &AlertKind::ALL, &[]),
            destination("critical-only", Active, &[Critical], &[Alerts], &[]),
            destination("cloudtrail", Active, &all, &[Alerts], &["AWS.CloudTrail"]),
            destination("errors", Active, &all, &[DetectionErrors, SystemErrors], &[]),
            destination("disabled", Disabled, &all, &AlertKind::ALL, &[]),
            destination("draft", Draft, &all, &AlertKind::ALL, &[]),
        ];
        let ct = vec!["AWS.CloudTrail".to_owned()];
        let okta = vec!["Okta.SystemLog".to_owned()];
        // (the alert's severity, type, log types, destinations named) → routed to, or the unknown ones
        type Case<'a> = (Severity, AlertType, &'a [String], Option<Vec<&'a str>>, Result<Vec<&'a str>, Vec<&'a str>>);
        let table: Vec<Case> = vec![
            (High, AlertType::Rule, &okta, None, Ok(vec!["everything"])),
            (High, AlertType::Rule, &ct, None, Ok(vec!["everything", "cloudtrail"])),
            (Critical, AlertType::Policy, &ct, None, Ok(vec!["everything", "critical-only", "cloudtrail"])),
            (Low, AlertType::RuleError, &[], None, Ok(vec!["everything", "errors"])),
            (Critical, AlertType::SystemError, &[], None, Ok(vec!["everything", "errors"])),
            // Naming destinations overrides the filters, but not their status.
            (Info, AlertType::Rule, &[], Some(vec!["critical-only", "disabled", "draft"]), Ok(vec!["critical-only"])),
            (Info, AlertType::Rule, &[], Some(vec!["nope", "everything", "gone"]), Err(vec!["nope", "gone"])),
            (Info, AlertType::Rule, &[], Some(vec![]), Ok(vec![])),
        ];
        for (i, (severity, alert_type, logs, named, expected)) in table.into_iter().enumerate() {
            let named: Option<Vec<String>> = named.map(|n| n.into_iter().map(str::to_owned).collect());
            let got = route(severity, alert_type, logs, named.as_deref(), &destinations);
            let expected = expected
                .map(|v| v.into_iter().map(str::to_owned).collect::<Vec<_>>())
                .map_err(|v| v.into_iter().map(str::to_owned).collect::<Vec<_>>());
            assert_eq!(got, expected, "row {i}");
        }
    }
}
