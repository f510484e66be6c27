//! People and programs that use Herald: users with roles, the permissions
//! roles grant, API tokens, and the rules their inputs must follow.

use serde::{Deserialize, Serialize};

use crate::api::FieldError;

/// What someone may do, named as the product names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Permission {
    ViewAlerts,
    ManageAlerts,
    ManageDestinations,
    ManageUsers,
    ManageApiTokens,
}

impl Permission {
    pub const ALL: [Permission; 5] = [
        Permission::ViewAlerts,
        Permission::ManageAlerts,
        Permission::ManageDestinations,
        Permission::ManageUsers,
        Permission::ManageApiTokens,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Permission::ViewAlerts => "View Alerts",
            Permission::ManageAlerts => "Manage Alerts",
            Permission::ManageDestinations => "Manage Destinations",
            Permission::ManageUsers => "Manage Users",
            Permission::ManageApiTokens => "Manage API Tokens",
        }
    }
}

/// A user's role: a named set of permissions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Role {
    Admin,
    Analyst,
    Viewer,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Admin, Role::Analyst, Role::Viewer];

    /// The table every access decision reads.
    pub const fn permissions(self) -> &'static [Permission] {
        match self {
            Role::Admin => &Permission::ALL,
            Role::Analyst => &[Permission::ViewAlerts, Permission::ManageAlerts],
            Role::Viewer => &[Permission::ViewAlerts],
        }
    }

    /// May someone with this role do `permission`?
    pub fn allows(self, permission: Permission) -> bool {
        self.permissions().contains(&permission)
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Admin => "Admin",
            Role::Analyst => "Analyst",
            Role::Viewer => "Viewer",
        }
    }

    /// As stored and sent: `ADMIN`, `ANALYST`, `VIEWER`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "ADMIN",
            Role::Analyst => "ANALYST",
            Role::Viewer => "VIEWER",
        }
    }

    /// Accepts the stored name or the label, in any case.
    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str().eq_ignore_ascii_case(s.trim()))
    }
}

/// An email address as Herald keeps it: trimmed, as typed; compared without case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    pub fn parse(field: &'static str, input: &str) -> Result<Email, FieldError> {
        let email = input.trim();
        let error = |message: &str| Err(FieldError::new(field, message));
        if email.is_empty() {
            return error("Enter an email address.");
        }
        if email.chars().count() > 254 {
            return error("An email address has at most 254 characters.");
        }
        let Some((local, domain)) = email.rsplit_once('@') else {
            return error("Enter an email address like ana@example.com.");
        };
        if local.is_empty() || domain.is_empty() || !domain.contains('.') || email.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return error("Enter an email address like ana@example.com.");
        }
        Ok(Email(email.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form uniqueness and look-ups use: ASCII lower case only, so a
    /// look-alike (the Kelvin sign `\u{212a}` for `k`) is another address.
    pub fn key(&self) -> String {
        self.0.to_ascii_lowercase()
    }
}

pub const PASSWORD_MIN_CHARS: usize = 12;
pub const PASSWORD_MAX_CHARS: usize = 1024;

/// Checks a new password: long enough to resist guessing, short enough to hash.
pub fn check_new_password(field: &'static str, password: &str) -> Result<(), FieldError> {
    let chars = password.chars().count();
    if chars < PASSWORD_MIN_CHARS {
        return Err(FieldError::new(field, format!("Use at least {PASSWORD_MIN_CHARS} characters.")));
    }
    if chars > PASSWORD_MAX_CHARS {
        return Err(FieldError::new(field, format!("Use at most {PASSWORD_MAX_CHARS} characters.")));
    }
    Ok(())
}

/// A display name: what colleagues see in messages and lists.
pub fn parse_display_name(field: &'static str, input: &str) -> Result<String, FieldError> {
    let name = input.trim();
    if crate::text::is_blank(name) {
        return Err(FieldError::new(field, "Enter a name."));
    }
    if name.chars().count() > 100 {
        return Err(FieldError::new(field, "A name has at most 100 characters."));
    }
    if crate::text::has_control(name) {
        return Err(FieldError::new(field, "A name is one line of text, without tabs or control characters."));
    }
    Ok(name.to_owned())
}

/// A user as the API shows it: never the password hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserView {
    pub id: String,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub enabled: bool,
    /// RFC 3339.
    pub created_at: String,
}

/// `GET /api/session`: who is signed in and what they may do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    pub user: UserView,
    pub permissions: Vec<Permission>,
}

impl Me {
    pub fn new(user: UserView) -> Me {
        let permissions = user.role.permissions().to_vec();
        Me { user, permissions }
    }

    pub fn may(&self, permission: Permission) -> bool {
        self.permissions.contains(&permission)
    }
}

/// `POST /api/session`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignIn {
    pub email: String,
    pub password: String,
}

/// `POST /api/users`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewUser {
    pub email: String,
    pub display_name: String,
    pub role: Role,
    /// The first password; the user signs in with it.
    pub password: String,
}

impl NewUser {
    /// Every field error at once, so a form can show them all.
    pub fn validate(&self) -> Result<(Email, String), Vec<FieldError>> {
        let email = Email::parse("email", &self.email);
        let name = parse_display_name("displayName", &self.display_name);
        let password = check_new_password("password", &self.password);
        match (email, name, password) {
            (Ok(email), Ok(name), Ok(())) => Ok((email, name)),
            (email, name, password) => Err([email.err(), name.err(), password.err()].into_iter().flatten().collect()),
        }
    }
}

/// `PATCH /api/users/{id}`: only the fields given change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserPatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
}

/// `GET /api/users`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserList {
    pub users: Vec<UserView>,
}

/// An API token as lists show it: a hint of the secret, never the secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiTokenView {
    pub id: String,
    pub name: String,
    /// `hrld_…` and the last four characters.
    pub hint: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
}

/// `POST /api/tokens`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewApiToken {
    pub name: String,
}

impl NewApiToken {
    pub fn validate(&self) -> Result<String, FieldError> {
        let name = self.name.trim();
        if name.is_empty() {
            return Err(FieldError::new("name", "Name the token after what uses it, e.g. \"detection pipeline\"."));
        }
        if name.chars().count() > 100 {
            return Err(FieldError::new("name", "A token name has at most 100 characters."));
        }
        if crate::text::has_control(name) {
            return Err(FieldError::new("name", "A token name is one line of text, without tabs or control characters."));
        }
        Ok(name.to_owned())
    }
}

/// The answer to `POST /api/tokens`: the only time the secret is shown.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedApiToken {
    pub token: ApiTokenView,
    pub secret: String,
}

/// `GET /api/tokens`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiTokenList {
    pub tokens: Vec<ApiTokenView>,
}

// Passwords and token secrets never reach a log through `{:?}`.
impl std::fmt::Debug for SignIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignIn").field("email", &self.email).field("password", &"***").finish()
    }
}

impl std::fmt::Debug for NewUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewUser")
            .field("email", &self.email)
            .field("display_name", &self.display_name)
            .field("role", &self.role)
            .field("password", &"***")
            .finish()
    }
}

impl std::fmt::Debug for CreatedApiToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreatedApiToken").field("token", &self.token).field("secret", &"***").finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_shows_a_password_or_secret() {
        let sign_in = SignIn { email: "ana@acme.example".into(), password: "hunter2hunter2".into() };
        let new = NewUser { email: "a@b.example".into(), display_name: "A".into(), role: Role::Viewer, password: "hunter2hunter2".into() };
        let token = ApiTokenView {
            id: "1".into(),
            name: "n".into(),
            hint: "hrld_…abcd".into(),
            created_at: "t".into(),
            last_used_at: None,
            revoked_at: None,
        };
        let created = CreatedApiToken { token, secret: "hrld_supersecret".into() };
        for text in [format!("{sign_in:?}"), format!("{new:?}"), format!("{created:?}")] {
            assert!(!text.contains("hunter2") && !text.contains("supersecret"), "{text}");
        }
    }

    #[test]
    fn roles_grant_the_permissions_the_product_names() {
        assert!(Permission::ALL.iter().all(|&p| Role::Admin.allows(p)));
        let analyst: Vec<_> = Permission::ALL.into_iter().filter(|&p| Role::Analyst.allows(p)).collect();
        assert_eq!(analyst, [Permission::ViewAlerts, Permission::ManageAlerts]);
        let viewer: Vec<_> = Permission::ALL.into_iter().filter(|&p| Role::Viewer.allows(p)).collect();
        assert_eq!(viewer, [Permission::ViewAlerts]);
    }

    #[test]
    fn roles_parse_in_any_case() {
        assert_eq!(Role::parse("admin"), Some(Role::Admin));
        assert_eq!(Role::parse(" Viewer "), Some(Role::Viewer));
        assert_eq!(Role::parse("root"), None);
    }

    #[test]
    fn emails_compare_without_case_but_keep_what_was_typed() {
        let email = Email::parse("email", "  Ana@Acme.Example ").unwrap();
        assert_eq!(email.as_str(), "Ana@Acme.Example");
        assert_eq!(email.key(), "ana@acme.example");
        for bad in ["", "ana", "ana@", "@acme.example", "ana@localhost", "a na@acme.example"] {
            let err = Email::parse("email", bad).unwrap_err();
            assert_eq!(err.field, "email", "{bad}");
        }
    }

    #[test]
    fn a_new_user_reports_every_bad_field_at_once() {
        let new = NewUser { email: "nope".into(), display_name: " ".into(), role: Role::Viewer, password: "short".into() };
        let fields: Vec<_> = new.validate().unwrap_err().into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["email", "displayName", "password"]);
    }
}
