//! The alert message: a snapshot of a typical one, and every message built
//! from ordinary and hostile alerts checked against Slack's Block Kit limits
//! (the numbers of `../shared/spec/slack-platform.md`, written out here
//! rather than taken from the builder's constants).

use herald_model::alert::{AlertContent, AlertStatus, AlertType};
use herald_model::blocks::{AlertMessage, Events};
use herald_model::destination::Severity;
use serde_json::Value;

/// What a typical alert says, with these log types.
fn said(log_types: &[&str]) -> AlertContent {
    AlertContent {
        title: "Suspicious console login".into(),
        severity: Severity::High,
        alert_type: AlertType::Rule,
        detection_id: Some("AWS.Console.LoginWithoutMFA".into()),
        log_types: log_types.iter().map(|t| (*t).to_owned()).collect(),
        description: Some("A console login without MFA from 203.0.113.7 by arn:aws:iam::123456789012:user/ana.".into()),
        runbook: Some("1. Ask the user whether it was them.\n2. If not, disable the key & rotate.".into()),
        reference: Some("https://docs.acme.example/runbooks/console-login".into()),
        tags: Vec::new(),
        links: Vec::new(),
    }
}

fn typical(content: &AlertContent) -> AlertMessage<'_> {
    AlertMessage {
        id: "b90c19e6a3f24c1d9e0a7b6c5d4e3f21",
        content,
        status: AlertStatus::Open,
        assignee: None,
        created_unix: 1_795_939_200,
        created_local: "2026-11-29 09:00 CET",
        herald_url: "https://herald.acme.example/alerts/b90c19e6a3f24c1d9e0a7b6c5d4e3f21",
        events: None,
        mentions: "",
    }
}

fn chars(v: &Value) -> usize {
    v.as_str().map_or(0, |s| s.chars().count())
}

/// Slack's limits, from the platform notes.
fn assert_within_limits(message: &Value) {
    let fail = |what: &str| panic!("{what}\n{}", serde_json::to_string_pretty(message).unwrap());
    if message["text"].as_str().is_none_or(str::is_empty) {
        fail("no plain-text fallback");
    }
    let blocks = message["blocks"].as_array().expect("blocks");
    if blocks.len() > 50 {
        fail("more than 50 blocks");
    }
    for block in blocks {
        if chars(&block["block_id"]) > 255 {
            fail("block_id over 255");
        }
        match block["type"].as_str().unwrap() {
            "header" => {
                assert_eq!(block["text"]["type"], "plain_text");
                if chars(&block["text"]["text"]) > 150 {
                    fail("header over 150");
                }
            }
            "section" => {
                if chars(&block["text"]["text"]) > 3000 {
                    fail("section text over 3000");
                }
                if let Some(fields) = block["fields"].as_array()
                    && (fields.len() > 10 || fields.iter().any(|f| chars(&f["text"]) > 2000))
                {
                    fail("section fields over 10 or a field over 2000");
                }
            }
            "context" => {
                if block["elements"].as_array().unwrap().len() > 10 {
                    fail("context over 10 elements");
                }
            }
            "actions" => {
                let elements = block["elements"].as_array().unwrap();
                if elements.len() > 25 {
                    fail("actions over 25 elements");
                }
                for e in elements {
                    if chars(&e["action_id"]) > 255
                        || chars(&e["text"]["text"]) > 75
                        || chars(&e["value"]) > 2000
                        || chars(&e["url"]) > 3000
                    {
                        fail("an action element over its limits");
                    }
                    if let Some(options) = e["options"].as_array()
                        && (options.len() > 100 || options.iter().any(|o| chars(&o["text"]["text"]) > 75 || chars(&o["value"]) > 150))
                    {
                        fail("select options over their limits");
                    }
                }
            }
            "divider" => {}
            other => fail(&format!("unexpected block type {other}")),
        }
    }
}

#[test]
fn a_typical_alert_message() {
    let content = said(&["AWS.CloudTrail"]);
    let message = serde_json::to_value(typical(&content).build()).unwrap();
    assert_within_limits(&message);
    insta::assert_snapshot!(serde_json::to_string_pretty(&message).unwrap());
}

#[test]
fn hostile_and_oversized_alerts_stay_within_slack_limits_and_cannot_mention_or_link() {
    let log_types: Vec<String> = (0..100).map(|i| format!("Vendor{i}.<!here>.{}", "x".repeat(240))).collect();
    let title = format!("<!channel> <https://evil.example|click> {}", "&".repeat(1_000));
    let description = "<@U123> & <!subteam^S1> ".repeat(500);
    let runbook = "<".repeat(10_000);
    let id = "i".repeat(200);
    let url = format!("https://herald.acme.example/alerts/{id}");
    let detection = "<!everyone>".repeat(90);
    let content = AlertContent {
        title,
        detection_id: Some(detection),
        log_types,
        description: Some(description),
        runbook: Some(runbook),
        reference: Some("https://x.example/<!channel>|y".to_owned()),
        links: (0..herald_model::alert::MAX_LINKS)
            .map(|_| herald_model::alert::Link { label: "<!channel>".repeat(4), url: format!("https://x.example/{}", "a".repeat(1_980)) })
            .collect(),
        ..said(&[])
    };
    let hostile = AlertMessage {
        id: &id,
        assignee: Some(herald_model::blocks::Assignee { name: "<!channel> Ana", slack_id: Some("U0ANA00001") }),
        herald_url: &url,
        events: Some(Events { count: u64::MAX, last_unix: 1_795_939_200, last_local: "<!channel> 10:42" }),
        ..typical(&content)
    };
    let message = serde_json::to_value(hostile.build()).unwrap();
    assert_within_limits(&message);

    // No mention or link may come from the alert's text: every `<` Herald
    // sends opens one of its own tokens (the date, the assignee).
    // Nor may Slack link or mention anything bare in it: every mrkdwn
    // text object is verbatim.
    let mut mrkdwn = vec![message["text"].as_str().unwrap().to_owned()];
    let mut objects = 0;
    for block in message["blocks"].as_array().unwrap() {
        let texts = std::iter::once(&block["text"])
            .chain(["fields", "elements"].into_iter().flat_map(|list| block[list].as_array().into_iter().flatten()));
        for item in texts.filter(|t| t["type"] == "mrkdwn") {
            assert_eq!(item["verbatim"], true, "a mrkdwn text object Slack would parse: {item}");
            mrkdwn.push(item["text"].as_str().unwrap().to_owned());
            objects += 1;
        }
    }
    assert!(objects >= 9, "the fields, description, runbook and reference: {objects}");
    for text in &mrkdwn {
        for (i, _) in text.match_indices('<') {
            let rest = &text[i..];
            assert!(rest.starts_with("<!date^") || rest.starts_with("<@U0ANA00001>"), "an injected token in {text:?}");
        }
        assert!(!text.contains("&amp…") && !text.ends_with("&…"), "cut inside an entity: {text:?}");
    }
    let header = message["blocks"][0]["text"]["text"].as_str().unwrap();
    assert!(header.ends_with('…'), "a cut header ends with the marker");
}

#[test]
fn a_folded_alert_s_message_says_how_many_events_and_when_the_last_came() {
    let content = said(&[]);
    let single =
        serde_json::to_value(AlertMessage { events: Some(Events { count: 1, last_unix: 0, last_local: "" }), ..typical(&content) }.build())
            .unwrap();
    assert!(!single.to_string().contains('×'), "one event is no storm: {single}");

    let events = Events { count: 48, last_unix: 1_795_947_720, last_local: "10:42 CET" };
    let message = serde_json::to_value(AlertMessage { events: Some(events), ..typical(&content) }.build()).unwrap();
    assert_within_limits(&message);
    let context = message["blocks"].as_array().unwrap().iter().find(|b| b["type"] == "context").expect("a context block");
    assert_eq!(context["elements"][0]["text"], "×48 · last at <!date^1795947720^{time}|10:42 CET>");
    assert!(message["text"].as_str().unwrap().ends_with(" ×48"), "{}", message["text"]);
}

#[test]
fn every_severity_and_type_builds_a_message_within_limits() {
    for severity in Severity::ALL {
        for alert_type in AlertType::ALL {
            let content = AlertContent { severity, alert_type, description: None, runbook: None, reference: None, ..said(&[]) };
            assert_within_limits(&serde_json::to_value(typical(&content).build()).unwrap());
        }
    }
}

#[test]
fn the_message_uses_only_chat_post_message_arguments_slack_documents() {
    // Slack's Web API OpenAPI description, beside the project.
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/slack/slack_web_openapi_v2.json");
    let spec: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))).unwrap();
    let documented: Vec<&str> =
        spec["paths"]["/chat.postMessage"]["post"]["parameters"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    // What the server sends: the channel, the built message, no unfurling.
    let message = serde_json::to_value(typical(&said(&[])).build()).unwrap();
    let mut sent: Vec<&str> = message.as_object().unwrap().keys().map(String::as_str).collect();
    sent.extend(["channel", "unfurl_links", "unfurl_media"]);
    for argument in sent {
        assert!(documented.contains(&argument), "chat.postMessage has no argument {argument:?}: {documented:?}");
    }
}

#[test]
fn the_destinations_mentions_lead_the_message_and_its_notification() {
    let content = said(&[]);
    let mut mentions = herald_model::mention::Mentions::default();
    mentions.set(
        herald_model::destination::Severity::High,
        herald_model::mention::parse_list(herald_model::destination::Severity::High, "@here, S0123ABCD").unwrap(),
    );
    let text = mentions.slack_text(content.severity);
    let message = serde_json::to_value(AlertMessage { mentions: &text, ..typical(&content) }.build()).unwrap();
    assert_within_limits(&message);
    assert!(message["text"].as_str().unwrap().starts_with("<!here> <!subteam^S0123ABCD> "), "{}", message["text"]);
    assert_eq!(message["blocks"][1]["text"]["text"], "<!here> <!subteam^S0123ABCD>");
    let quiet = serde_json::to_value(typical(&content).build()).unwrap();
    assert_eq!(quiet["blocks"].as_array().unwrap().len() + 1, message["blocks"].as_array().unwrap().len(), "no mentions, no block");
}
