//! Settings: defaults, then `HERALD_*` environment variables, then `herald`
//! flags. Every bad value is refused at start-up with a message that names
//! the variable and says what a good value looks like.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;

use clap::{Args, Parser, Subcommand};
use tracing_subscriber::filter::Targets;
use url::Url;

pub use crate::store::DatabaseUrl;

/// The `herald` command line.
#[derive(Debug, Parser)]
#[command(name = "herald", version, about = "Self-hosted Slack Bot alert destination")]
pub struct Cli {
    #[command(flatten)]
    pub settings: Settings,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the web app, the API and the Slack endpoints (the default).
    Serve,
    /// Manage users from the command line (e.g. the first admin).
    #[command(subcommand)]
    User(UserCommand),
    /// Print the Slack app manifest to create Herald's Slack app from.
    Manifest {
        /// The app's name in Slack (at most 35 characters).
        #[arg(long, default_value = herald_model::manifest::DEFAULT_APP_NAME)]
        name: String,
        /// yaml or json.
        #[arg(long, default_value = "yaml", value_parser = parse_format)]
        format: herald_model::manifest::ManifestFormat,
        /// For Enterprise Grid: allow installing the app org-wide.
        #[arg(long)]
        enterprise_grid: bool,
        /// Herald behind a firewall: it opens the connection to Slack (an
        /// app-level token), so Slack needs no Request URLs.
        #[arg(long)]
        socket_mode: bool,
        /// Destinations mention user groups by handle (@sec-oncall): adds
        /// the usergroups:read scope, so Herald can look the handles up.
        #[arg(long)]
        user_groups: bool,
    },
    /// Copy everything from a SQLite database into an empty PostgreSQL
    /// one (moving to several replicas); the PostgreSQL-backed Herald
    /// needs the same secret key file.
    MigrateDb {
        /// The SQLite database: sqlite://data/herald.db (stop Herald first).
        #[arg(long, value_parser = DatabaseUrlParser)]
        from: DatabaseUrl,
        /// The PostgreSQL database, empty: postgres://user:password@host/db.
        #[arg(long, value_parser = DatabaseUrlParser)]
        to: DatabaseUrl,
    },
}

fn parse_format(s: &str) -> Result<herald_model::manifest::ManifestFormat, String> {
    match s.to_ascii_lowercase().as_str() {
        "yaml" | "yml" => Ok(herald_model::manifest::ManifestFormat::Yaml),
        "json" => Ok(herald_model::manifest::ManifestFormat::Json),
        _ => Err("the format must be yaml or json".to_owned()),
    }
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user who signs in with email and password.
    Create {
        /// Their email: the sign-in name, and how Slack users are matched.
        #[arg(long)]
        email: String,
        /// admin, analyst or viewer.
        #[arg(long, value_parser = parse_role)]
        role: herald_model::account::Role,
        /// The name colleagues see (default: the part of the email before @).
        #[arg(long)]
        name: Option<String>,
        /// Read the password from this file instead of asking for it.
        #[arg(long)]
        password_file: Option<PathBuf>,
    },
}

fn parse_role(s: &str) -> Result<herald_model::account::Role, String> {
    herald_model::account::Role::parse(s).ok_or_else(|| "the role must be admin, analyst or viewer".to_owned())
}

/// Every setting of the server. Field docs are the `--help` text.
#[derive(Debug, Clone, Args)]
pub struct Settings {
    /// Address to listen on.
    #[arg(long, env = "HERALD_BIND", default_value = "127.0.0.1:8080", value_parser = parse_bind)]
    pub bind: SocketAddr,

    /// Base URL people and Slack use to reach Herald (manifest, OAuth
    /// redirect, links in messages). Default: http://<bind>.
    #[arg(long, env = "HERALD_PUBLIC_URL", value_parser = parse_public_url, global = true)]
    pub public_url: Option<Url>,

    /// Database: sqlite://path (created on first start).
    #[arg(
        long = "database-url",
        env = "HERALD_DATABASE_URL",
        global = true,
        default_value = "sqlite://data/herald.db",
        value_parser = DatabaseUrlParser
    )]
    pub database: DatabaseUrl,

    /// Connections each replica keeps to PostgreSQL (1 to 1000).
    #[arg(long = "database-pool", env = "HERALD_DATABASE_POOL", global = true, default_value_t = crate::store::DEFAULT_POOL, value_parser = parse_pool)]
    pub database_pool: u32,

    /// Base URL of Slack's Web API.
    #[arg(long, env = "HERALD_SLACK_API_URL", default_value = "https://slack.com/api", value_parser = parse_slack_api_url)]
    pub slack_api_url: Url,

    /// Slack's OAuth v2 authorize page.
    #[arg(
        long,
        env = "HERALD_SLACK_AUTHORIZE_URL",
        default_value = "https://slack.com/oauth/v2/authorize",
        value_parser = parse_slack_authorize_url
    )]
    pub slack_authorize_url: Url,

    /// File holding the key that encrypts secrets at rest (generated on first
    /// start, mode 0600). Back it up with the database.
    #[arg(long, env = "HERALD_SECRET_KEY_FILE", default_value = "data/secret.key")]
    pub secret_key_file: PathBuf,

    /// Folder of the built web app (`cargo xtask build` writes it).
    #[arg(long, env = "HERALD_DIST_DIR", default_value = "dist")]
    pub dist_dir: PathBuf,

    /// How long a sign-in lasts, e.g. 12h, 30m, 7d.
    #[arg(long, env = "HERALD_SESSION_TTL", default_value = "12h", value_parser = parse_session_ttl)]
    pub session_ttl: std::time::Duration,

    /// Pace messages as Slack asks (about one a second per channel, and a
    /// ceiling per workspace). Turn off only against a fake Slack, for
    /// benchmarks.
    #[arg(long, env = "HERALD_SLACK_PACING", default_value = "on", value_parser = parse_on_off, action = clap::ArgAction::Set)]
    pub slack_pacing: bool,

    /// Messages a minute to one channel. Slack allows about 60; 58 keeps
    /// clear of it when messages bunch up on the way. Lower it if Slack
    /// still answers 429 (the log and `/metrics` say so).
    #[arg(long, env = "HERALD_SLACK_CHANNEL_RATE", default_value = "58", value_parser = parse_channel_rate)]
    pub slack_channel_rate: u32,

    /// The longest a message waits while more severe ones for the same
    /// channel overtake it: after this long it goes next, whatever its
    /// severity (e.g. 10m).
    #[arg(long, env = "HERALD_PRIORITY_MAX_WAIT", default_value = "10m", value_parser = parse_priority_max_wait)]
    pub priority_max_wait: std::time::Duration,

    /// Let workspace guests (single- and multi-channel) act on alerts from
    /// Slack, as the Herald user with their email. Off: only full members.
    #[arg(long, env = "HERALD_SLACK_ALLOW_GUESTS", default_value = "off", value_parser = parse_allow_guests, action = clap::ArgAction::Set)]
    pub slack_allow_guests: bool,

    /// Proxies in front of Herald (comma-separated addresses or CIDRs, e.g.
    /// `10.0.0.0/8,::1`). A request from one of them names its client in
    /// `X-Forwarded-For` or `Forwarded`: the rightmost hop that is not a
    /// trusted proxy is the client. Empty: the socket's address, and
    /// those headers are ignored.
    #[arg(long, env = "HERALD_TRUSTED_PROXIES", default_value = "", value_parser = parse_trusted_proxies)]
    pub trusted_proxies: TrustedProxies,

    /// When set, `GET /metrics` answers only `Authorization: Bearer <this>`.
    #[arg(long, env = "HERALD_METRICS_TOKEN", value_parser = parse_metrics_token, hide_env_values = true)]
    pub metrics_token: Option<MetricsToken>,

    /// How long alerts are kept after their last change (their deliveries
    /// and history go with them), e.g. 180d; `0` keeps them for ever.
    #[arg(long, env = "HERALD_RETENTION", default_value = "180d", value_parser = parse_retention)]
    pub retention: Retention,

    /// How long a client may take to send a request's headers; a slower
    /// one (or an idle connection) is closed.
    #[arg(long, env = "HERALD_HEADER_TIMEOUT", default_value = "10s", value_parser = parse_header_timeout)]
    pub header_timeout: std::time::Duration,

    /// How long a client may take to send a request's body.
    #[arg(long, env = "HERALD_BODY_TIMEOUT", default_value = "30s", value_parser = parse_body_timeout)]
    pub body_timeout: std::time::Duration,

    /// How long Herald works on one request before answering 408 (longer
    /// than any call it makes to Slack while someone waits).
    #[arg(long, env = "HERALD_REQUEST_TIMEOUT", default_value = "60s", value_parser = parse_request_timeout)]
    pub request_timeout: std::time::Duration,

    /// Connections open at once; more wait in the queue until one closes.
    #[arg(long, env = "HERALD_MAX_CONNECTIONS", default_value = "1024", value_parser = parse_max_connections)]
    pub max_connections: usize,

    /// How many times a delivery that fails for a passing reason (Slack
    /// down, a timeout) is tried before it is given up.
    #[arg(long, env = "HERALD_DELIVERY_ATTEMPTS", default_value = "10", value_parser = parse_attempts)]
    pub delivery_attempts: u32,

    /// The wait before the first retry; each further retry waits twice as
    /// long (with jitter), at most 10 minutes. 5s and 10 attempts give up
    /// after about half an hour.
    #[arg(long, env = "HERALD_DELIVERY_RETRY_BASE", default_value = "5s", value_parser = parse_retry_base)]
    pub delivery_retry_base: std::time::Duration,

    /// Socket Mode: how long an app's connection to Slack may stay down
    /// (clicks and events not arriving) before Herald raises a System
    /// Error alert about it, e.g. 5m.
    #[arg(long, env = "HERALD_SOCKET_MODE_ALERT_AFTER", default_value = "5m", value_parser = parse_socket_mode_alert_after)]
    pub socket_mode_alert_after: std::time::Duration,

    /// Alertmanager and Grafana webhooks: the label whose value is an
    /// alert's log type (routing by log type uses it).
    #[arg(long, env = "HERALD_INGEST_LOG_TYPE_LABEL", default_value = "job", value_parser = parse_log_type_label)]
    pub ingest_log_type_label: String,

    /// Alertmanager and Grafana webhooks: the severity of an alert whose
    /// `severity` label is missing or not one Herald reads (critical,
    /// error/high, warning, low, info).
    #[arg(long, env = "HERALD_INGEST_DEFAULT_SEVERITY", default_value = "MEDIUM", value_parser = parse_default_severity)]
    pub ingest_default_severity: herald_model::destination::Severity,

    /// Email of the first admin, created at start-up when there are no
    /// users (with HERALD_ADMIN_PASSWORD_FILE).
    #[arg(long, env = "HERALD_ADMIN_EMAIL")]
    pub admin_email: Option<String>,

    /// File holding the first admin's password.
    #[arg(long, env = "HERALD_ADMIN_PASSWORD_FILE")]
    pub admin_password_file: Option<PathBuf>,

    /// How long one minute of a destination's "remind after" setting is.
    /// Only tests and demos change it (a reminder after "2 minutes" then
    /// comes after 2 of these).
    #[arg(long, env = "HERALD_REMINDER_MINUTE", default_value = "1m", value_parser = parse_reminder_minute, hide = true)]
    pub reminder_minute: std::time::Duration,

    /// Log filter: a level (`info`), or per-target levels
    /// (`warn,herald_server=debug`).
    #[arg(long, env = "HERALD_LOG", default_value = "info", value_parser = parse_log_filter)]
    pub log: Targets,
}

impl Settings {
    /// Settings from `herald` flags (without the program name), over the
    /// environment and the defaults, as the binary would see them.
    pub fn from_flags<I, S>(flags: I) -> Result<Settings, clap::Error>
    where
        I: IntoIterator<Item = S>,
        S: Into<std::ffi::OsString> + Clone,
    {
        let argv = std::iter::once(std::ffi::OsString::from("herald")).chain(flags.into_iter().map(Into::into));
        Cli::try_parse_from(argv).map(|cli| cli.settings)
    }

    /// `HERALD_PUBLIC_URL`, or `http://<address Herald listens on>`.
    pub fn public_url_or(&self, listening: SocketAddr) -> Url {
        match &self.public_url {
            Some(url) => url.clone(),
            None => Url::parse(&format!("http://{listening}")).expect("a socket address forms a URL"),
        }
    }
}

/// Parses `HERALD_DATABASE_URL` without echoing a refused value: a database
/// URL may carry a password, and clap's own errors print the value whole.
#[derive(Clone)]
struct DatabaseUrlParser;

impl clap::builder::TypedValueParser for DatabaseUrlParser {
    type Value = DatabaseUrl;

    fn parse_ref(&self, _cmd: &clap::Command, _arg: Option<&clap::Arg>, value: &std::ffi::OsStr) -> Result<DatabaseUrl, clap::Error> {
        let value = value.to_str().unwrap_or_default();
        DatabaseUrl::from_str(value).map_err(|message| {
            let scheme = value.split_once(':').map_or("", |(scheme, _)| scheme);
            let got = if scheme.is_empty() { String::new() } else { format!(" (got a {scheme}: URL)") };
            clap::Error::raw(clap::error::ErrorKind::ValueValidation, format!("{message}{got}\n"))
        })
    }
}

impl FromStr for DatabaseUrl {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if s.starts_with("sqlite:") {
            if s == "sqlite:" || s == "sqlite://" {
                return Err(hint("HERALD_DATABASE_URL", "a file path after sqlite://, e.g. sqlite://data/herald.db"));
            }
            Ok(DatabaseUrl::Sqlite(s.to_owned()))
        } else if s.starts_with("postgres://") || s.starts_with("postgresql://") {
            Ok(DatabaseUrl::Postgres(s.to_owned()))
        } else {
            Err(hint("HERALD_DATABASE_URL", "sqlite://<path>, e.g. sqlite://data/herald.db"))
        }
    }
}

fn hint(var: &str, expected: &str) -> String {
    format!("{var} must be {expected}")
}

fn parse_bind(s: &str) -> Result<SocketAddr, String> {
    s.trim().parse().map_err(|_| hint("HERALD_BIND", "an IP address and port, e.g. 127.0.0.1:8080 or 0.0.0.0:8080"))
}

fn parse_http_url(var: &str, s: &str, example: &str) -> Result<Url, String> {
    let expected = format!("an http:// or https:// URL, e.g. {example}");
    let url = Url::parse(s.trim()).map_err(|_| hint(var, &expected))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(hint(var, &expected));
    }
    Ok(url)
}

fn parse_public_url(s: &str) -> Result<Url, String> {
    let url = parse_http_url("HERALD_PUBLIC_URL", s, "https://herald.example.com")?;
    // The web app links to absolute paths, so Herald must own the site root.
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
        return Err(hint(
            "HERALD_PUBLIC_URL",
            "the site root, without a path, ?query or #fragment, e.g. https://herald.example.com \
             (serving Herald under a sub-path is not supported)",
        ));
    }
    Ok(url)
}

fn parse_slack_api_url(s: &str) -> Result<Url, String> {
    parse_http_url("HERALD_SLACK_API_URL", s, "https://slack.com/api").map(with_trailing_slash)
}

fn parse_slack_authorize_url(s: &str) -> Result<Url, String> {
    parse_http_url("HERALD_SLACK_AUTHORIZE_URL", s, "https://slack.com/oauth/v2/authorize")
}

fn with_trailing_slash(mut url: Url) -> Url {
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    url
}

fn parse_session_ttl(s: &str) -> Result<std::time::Duration, String> {
    parse_duration("HERALD_SESSION_TTL", "12h or 30m", s)
}

fn parse_retry_base(s: &str) -> Result<std::time::Duration, String> {
    parse_duration("HERALD_DELIVERY_RETRY_BASE", "5s or 500ms", s)
}

/// `250ms`, `90s`, `30m`, `12h`, `7d`; never zero.
fn parse_duration(var: &str, example: &str, s: &str) -> Result<std::time::Duration, String> {
    let s = s.trim();
    let bad = || hint(var, &format!("a number with ms, s, m, h or d, e.g. {example}"));
    let split = s.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
    let (number, unit) = s.split_at(split);
    let number: u64 = number.parse().map_err(|_| bad())?;
    let millis = match unit {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return Err(bad()),
    };
    if number == 0 {
        return Err(bad());
    }
    Ok(std::time::Duration::from_millis(number.saturating_mul(millis)))
}

fn on_off(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "on" | "true" | "1" | "yes" => Some(true),
        "off" | "false" | "0" | "no" => Some(false),
        _ => None,
    }
}

/// The bearer token `/metrics` asks for; never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct MetricsToken(pub String);

impl std::fmt::Debug for MetricsToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MetricsToken(••••)")
    }
}

fn parse_metrics_token(s: &str) -> Result<MetricsToken, String> {
    let token = s.trim();
    if token.len() < 16 || token.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(hint("HERALD_METRICS_TOKEN", "at least 16 characters without spaces, e.g. from `openssl rand -hex 24`"));
    }
    Ok(MetricsToken(token.to_owned()))
}

/// How long alerts are kept; `None`: for ever.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention(pub Option<std::time::Duration>);

fn parse_pool(s: &str) -> Result<u32, String> {
    match s.trim().parse::<u32>() {
        Ok(n @ 1..=1000) => Ok(n),
        _ => Err(hint("HERALD_DATABASE_POOL", "a number of connections from 1 to 1000, e.g. 10")),
    }
}

fn parse_retention(s: &str) -> Result<Retention, String> {
    if s.trim() == "0" {
        return Ok(Retention(None));
    }
    let keep = parse_duration("HERALD_RETENTION", "180d, 30d or 0 (keep for ever)", s)?;
    if keep < std::time::Duration::from_secs(86_400) {
        return Err(hint("HERALD_RETENTION", "at least a day, e.g. 180d or 30d, or 0 to keep alerts for ever"));
    }
    Ok(Retention(Some(keep)))
}

/// The proxies whose forwarding headers Herald believes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(pub Vec<ipnet::IpNet>);

impl TrustedProxies {
    pub fn contains(&self, ip: std::net::IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|net| net.contains(&ip))
    }
}

fn parse_trusted_proxies(s: &str) -> Result<TrustedProxies, String> {
    let mut nets = Vec::new();
    for item in s.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        let net = item.parse::<ipnet::IpNet>().or_else(|_| item.parse::<std::net::IpAddr>().map(ipnet::IpNet::from)).map_err(|_| {
            hint("HERALD_TRUSTED_PROXIES", &format!("addresses or CIDRs separated by commas, e.g. 10.0.0.0/8,::1 (not {item:?})"))
        })?;
        nets.push(net);
    }
    Ok(TrustedProxies(nets))
}

fn parse_priority_max_wait(s: &str) -> Result<std::time::Duration, String> {
    parse_duration("HERALD_PRIORITY_MAX_WAIT", "10m", s)
}

fn parse_log_type_label(s: &str) -> Result<String, String> {
    let label = s.trim();
    // Prometheus' label names: letters, digits and _, not starting with a digit.
    let valid = label.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if valid { Ok(label.to_owned()) } else { Err(hint("HERALD_INGEST_LOG_TYPE_LABEL", "a label name such as job or namespace")) }
}

fn parse_default_severity(s: &str) -> Result<herald_model::destination::Severity, String> {
    herald_model::destination::Severity::parse(s)
        .ok_or_else(|| hint("HERALD_INGEST_DEFAULT_SEVERITY", "INFO, LOW, MEDIUM, HIGH or CRITICAL"))
}

fn parse_socket_mode_alert_after(s: &str) -> Result<std::time::Duration, String> {
    parse_duration("HERALD_SOCKET_MODE_ALERT_AFTER", "5m", s)
}

fn parse_reminder_minute(s: &str) -> Result<std::time::Duration, String> {
    match parse_duration("HERALD_REMINDER_MINUTE", "1m", s)? {
        minute if minute > std::time::Duration::from_secs(3600) => Err(hint("HERALD_REMINDER_MINUTE", "at most 1h, e.g. 1m")),
        minute => Ok(minute),
    }
}

fn parse_header_timeout(s: &str) -> Result<std::time::Duration, String> {
    parse_duration("HERALD_HEADER_TIMEOUT", "10s", s)
}

fn parse_body_timeout(s: &str) -> Result<std::time::Duration, String> {
    parse_duration("HERALD_BODY_TIMEOUT", "30s", s)
}

fn parse_request_timeout(s: &str) -> Result<std::time::Duration, String> {
    parse_duration("HERALD_REQUEST_TIMEOUT", "60s", s)
}

fn parse_max_connections(s: &str) -> Result<usize, String> {
    s.trim()
        .parse::<usize>()
        .ok()
        .filter(|n| (16..=1_000_000).contains(n))
        .ok_or_else(|| hint("HERALD_MAX_CONNECTIONS", "a whole number from 16 up, e.g. 1024"))
}

fn parse_on_off(s: &str) -> Result<bool, String> {
    on_off(s).ok_or_else(|| hint("HERALD_SLACK_PACING", "on or off"))
}

fn parse_allow_guests(s: &str) -> Result<bool, String> {
    on_off(s).ok_or_else(|| hint("HERALD_SLACK_ALLOW_GUESTS", "on or off"))
}

fn parse_channel_rate(s: &str) -> Result<u32, String> {
    s.trim()
        .parse::<u32>()
        .ok()
        .filter(|n| (1..=60).contains(n))
        .ok_or_else(|| hint("HERALD_SLACK_CHANNEL_RATE", "messages a minute per channel, a whole number from 1 to 60, e.g. 58"))
}

fn parse_attempts(s: &str) -> Result<u32, String> {
    s.trim()
        .parse::<u32>()
        .ok()
        .filter(|n| (1..=100).contains(n))
        .ok_or_else(|| hint("HERALD_DELIVERY_ATTEMPTS", "a whole number from 1 to 100, e.g. 10"))
}

fn parse_log_filter(s: &str) -> Result<Targets, String> {
    s.parse()
        .map_err(|_| hint("HERALD_LOG", "a level (error, warn, info, debug, trace) or target=level pairs, e.g. warn,herald_server=debug"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Settings, String> {
        Settings::from_flags(args).map_err(|e| e.to_string())
    }

    #[test]
    fn defaults_match_the_product_spec() {
        let s = parse(&[]).unwrap();
        assert_eq!(s.bind, "127.0.0.1:8080".parse().unwrap());
        assert_eq!(s.public_url, None);
        assert_eq!(s.database, DatabaseUrl::Sqlite("sqlite://data/herald.db".into()));
        assert_eq!(s.slack_api_url.as_str(), "https://slack.com/api/");
        assert_eq!(s.slack_authorize_url.as_str(), "https://slack.com/oauth/v2/authorize");
        assert_eq!(s.secret_key_file, PathBuf::from("data/secret.key"));
        assert_eq!(s.dist_dir, PathBuf::from("dist"));
    }

    #[test]
    fn public_url_defaults_to_the_listening_address() {
        let s = parse(&[]).unwrap();
        let url = s.public_url_or("127.0.0.1:41234".parse().unwrap());
        assert_eq!(url.as_str(), "http://127.0.0.1:41234/");
    }

    #[test]
    fn public_url_is_a_site_root() {
        let url = parse(&["--public-url", "https://herald.acme.example"]).unwrap().public_url.unwrap();
        assert_eq!(url.join("slack/oauth/callback").unwrap().as_str(), "https://herald.acme.example/slack/oauth/callback");
        let err = parse(&["--public-url", "https://acme.example/herald"]).unwrap_err();
        assert!(err.contains("sub-path is not supported"), "{err}");
    }

    #[test]
    fn a_reminder_minute_is_a_minute_unless_a_test_shortens_it_and_at_most_an_hour() {
        assert_eq!(parse(&[]).unwrap().reminder_minute, std::time::Duration::from_secs(60));
        assert_eq!(parse(&["--reminder-minute", "1s"]).unwrap().reminder_minute, std::time::Duration::from_secs(1));
        let err = parse(&["--reminder-minute", "2h"]).unwrap_err();
        assert!(err.contains("HERALD_REMINDER_MINUTE") && err.contains("at most 1h"), "{err}");
    }

    #[test]
    fn a_bad_bind_address_names_the_variable_and_an_example() {
        let err = parse(&["--bind", "localhost"]).unwrap_err();
        assert!(err.contains("HERALD_BIND"), "{err}");
        assert!(err.contains("127.0.0.1:8080"), "{err}");
    }

    #[test]
    fn a_public_url_must_be_http_or_https() {
        for bad in ["ftp://herald.example", "herald.example", "https://herald.example/?x=1"] {
            let err = parse(&["--public-url", bad]).unwrap_err();
            assert!(err.contains("HERALD_PUBLIC_URL"), "{bad}: {err}");
        }
    }

    #[test]
    fn a_database_url_must_name_a_backend() {
        let err = parse(&["--database-url", "mysql://db/herald"]).unwrap_err();
        assert!(err.contains("HERALD_DATABASE_URL"), "{err}");
        let err = parse(&["--database-url", "sqlite://"]).unwrap_err();
        assert!(err.contains("file path"), "{err}");
        let err = parse(&["--database-url", "mysql://admin:hunter2@db/herald"]).unwrap_err();
        assert!(err.contains("got a mysql: URL") && !err.contains("hunter2"), "a refused URL is not echoed: {err}");
        let postgres = parse(&["--database-url", "postgres://herald:hunter2@db/herald"]).unwrap().database;
        assert!(matches!(postgres, DatabaseUrl::Postgres(_)));
        assert!(!format!("{postgres:?}").contains("hunter2"));
    }

    #[test]
    fn slack_urls_must_be_urls() {
        let err = parse(&["--slack-api-url", "not a url"]).unwrap_err();
        assert!(err.contains("HERALD_SLACK_API_URL"), "{err}");
        let err = parse(&["--slack-authorize-url", "mailto:x@y"]).unwrap_err();
        assert!(err.contains("HERALD_SLACK_AUTHORIZE_URL"), "{err}");
    }

    #[test]
    fn the_slack_api_url_joins_method_names() {
        let s = parse(&["--slack-api-url", "http://127.0.0.1:9000/api"]).unwrap();
        assert_eq!(s.slack_api_url.join("chat.postMessage").unwrap().as_str(), "http://127.0.0.1:9000/api/chat.postMessage");
    }

    #[test]
    fn session_lifetimes_read_like_people_write_them() {
        assert_eq!(parse(&[]).unwrap().session_ttl, std::time::Duration::from_secs(12 * 3600));
        assert_eq!(parse(&["--session-ttl", "30m"]).unwrap().session_ttl, std::time::Duration::from_secs(1800));
        for bad in ["12", "h", "0s", "1w", "-1h"] {
            let err = parse(&[&format!("--session-ttl={bad}")]).unwrap_err();
            assert!(err.contains("HERALD_SESSION_TTL"), "{bad}: {err}");
        }
    }

    #[test]
    fn delivery_settings_have_safe_defaults_and_bad_values_name_the_variable() {
        let s = parse(&[]).unwrap();
        assert!(s.slack_pacing, "pacing is on unless turned off");
        assert_eq!(s.slack_channel_rate, 58, "a little under Slack's one a second");
        assert_eq!(s.priority_max_wait.as_secs(), 600, "ten minutes at most behind more severe messages");
        assert!(!s.slack_allow_guests, "guests may not act unless allowed");
        assert_eq!((s.header_timeout.as_secs(), s.body_timeout.as_secs(), s.request_timeout.as_secs()), (10, 30, 60));
        assert_eq!(s.max_connections, 1024);
        assert!(s.trusted_proxies.0.is_empty(), "no proxy is trusted unless named");
        assert_eq!(s.retention, Retention(Some(std::time::Duration::from_secs(180 * 86_400))));
        assert_eq!(parse(&["--retention=0"]).unwrap().retention, Retention(None));
        assert!(s.metrics_token.is_none());
        let token = parse(&["--metrics-token=0123456789abcdef0123"]).unwrap().metrics_token.unwrap();
        assert!(!format!("{token:?}").contains("0123456789"), "the token is never printed");
        let proxies = parse(&["--trusted-proxies", "10.0.0.0/8, ::1"]).unwrap().trusted_proxies;
        assert!(proxies.contains("10.2.3.4".parse().unwrap()) && proxies.contains("::1".parse().unwrap()));
        assert!(!proxies.contains("192.0.2.1".parse().unwrap()));
        assert_eq!(parse(&["--slack-channel-rate=30"]).unwrap().slack_channel_rate, 30);
        assert_eq!((s.delivery_attempts, s.delivery_retry_base), (10, std::time::Duration::from_secs(5)));
        let s = parse(&["--slack-pacing=off", "--delivery-attempts=3", "--delivery-retry-base=250ms"]).unwrap();
        assert_eq!((s.slack_pacing, s.delivery_attempts, s.delivery_retry_base), (false, 3, std::time::Duration::from_millis(250)));
        for (flag, var) in [
            ("--slack-pacing=sometimes", "HERALD_SLACK_PACING"),
            ("--slack-channel-rate=61", "HERALD_SLACK_CHANNEL_RATE"),
            ("--slack-channel-rate=0", "HERALD_SLACK_CHANNEL_RATE"),
            ("--slack-allow-guests=maybe", "HERALD_SLACK_ALLOW_GUESTS"),
            ("--header-timeout=0s", "HERALD_HEADER_TIMEOUT"),
            ("--body-timeout=soon", "HERALD_BODY_TIMEOUT"),
            ("--request-timeout=5", "HERALD_REQUEST_TIMEOUT"),
            ("--max-connections=3", "HERALD_MAX_CONNECTIONS"),
            ("--trusted-proxies=10.0.0.0/33", "HERALD_TRUSTED_PROXIES"),
            ("--metrics-token=short", "HERALD_METRICS_TOKEN"),
            ("--database-pool=0", "HERALD_DATABASE_POOL"),
            ("--retention=1h", "HERALD_RETENTION"),
            ("--retention=forever", "HERALD_RETENTION"),
            ("--delivery-attempts=0", "HERALD_DELIVERY_ATTEMPTS"),
            ("--delivery-attempts=many", "HERALD_DELIVERY_ATTEMPTS"),
            ("--delivery-retry-base=0s", "HERALD_DELIVERY_RETRY_BASE"),
            ("--delivery-retry-base=5", "HERALD_DELIVERY_RETRY_BASE"),
        ] {
            let err = parse(&[flag]).unwrap_err();
            assert!(err.contains(var), "{flag}: {err}");
        }
    }

    #[test]
    fn a_bad_log_filter_names_the_variable() {
        let err = parse(&["--log", "herald=loud"]).unwrap_err();
        assert!(err.contains("HERALD_LOG"), "{err}");
    }
}
