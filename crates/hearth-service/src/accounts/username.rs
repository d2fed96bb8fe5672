//! The rules a new account's localpart follows (spec: appendices "User Identifiers";
//! client-server-api `POST /register`).

use hearth_core::{Error, Result};
use ruma::{OwnedUserId, ServerName, UserId};

/// The longest user ID the spec allows, in bytes.
const MAX_USER_ID_LEN: usize = 255;

/// The user ID a requested username maps to. Usernames are lowercased (clients may not assume
/// the localpart equals the username, and Synapse does the same), then must use only the
/// characters of the spec's grammar. Like Synapse, names starting with `_` are reserved (for
/// application services) and all-digit names are reserved for guests.
pub fn user_id_for_username(username: &str, server_name: &ServerName) -> Result<OwnedUserId> {
    let localpart = username.to_lowercase();
    if localpart.is_empty() {
        return Err(Error::invalid_username("The username must not be empty"));
    }
    if let Some(c) = localpart.chars().find(|c| !is_localpart_char(*c)) {
        return Err(Error::invalid_username(format!(
            "The username may only contain a-z, 0-9 and . _ = - / +, not {c:?}"
        )));
    }
    if localpart.starts_with('_') {
        return Err(Error::invalid_username("Usernames starting with '_' are reserved"));
    }
    if localpart.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::invalid_username("All-digit usernames are reserved for guests"));
    }
    let user_id = UserId::parse_with_server_name(localpart, server_name)
        .map_err(|e| Error::invalid_username(format!("Invalid username: {e}")))?;
    if user_id.as_str().len() > MAX_USER_ID_LEN {
        return Err(Error::invalid_username("The username is too long"));
    }
    Ok(user_id)
}

fn is_localpart_char(c: char) -> bool {
    matches!(c, 'a'..='z' | '0'..='9' | '.' | '_' | '=' | '-' | '/' | '+')
}

/// User-ID namespaces that application services claim exclusively (spec:
/// application-service-api "Registration"): nobody else may register in them (`M_EXCLUSIVE`).
/// Application services are not supported yet, so the list is empty; their registration files
/// will fill it.
#[derive(Debug, Default)]
pub struct ExclusiveNamespaces {
    user_patterns: Vec<regex::Regex>,
}

impl ExclusiveNamespaces {
    pub fn contains(&self, user_id: &UserId) -> bool {
        self.user_patterns.iter().any(|re| re.is_match(user_id.as_str()))
    }

    pub fn check(&self, user_id: &UserId) -> Result<()> {
        if self.contains(user_id) {
            return Err(Error::exclusive("This user ID is reserved by an application service"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(name: &str) -> Result<String> {
        user_id_for_username(name, "example.org".try_into().unwrap()).map(|u| u.to_string())
    }

    #[test]
    fn lowercases_and_applies_the_grammar() {
        assert_eq!(map("Alice").unwrap(), "@alice:example.org");
        assert_eq!(map("a.b_c=d-e/f+g").unwrap(), "@a.b_c=d-e/f+g:example.org");
        for bad in ["", "al ice", "al!ce", "bob:x", "_bridge", "12345", "é", &"a".repeat(250)] {
            assert_eq!(map(bad).unwrap_err().errcode(), "M_INVALID_USERNAME", "{bad:?}");
        }
    }
}
