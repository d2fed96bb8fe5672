//! Where an admin command gets a password: a file, or standard input (prompted on a TTY).

use std::{
    io::{BufRead, IsTerminal},
    path::Path,
};

/// The password from `file` (its first line), else from standard input: a hidden prompt,
/// asked twice, on a terminal; the first line otherwise.
pub fn read_password(file: Option<&Path>) -> Result<String, String> {
    let password = match file {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            text.lines().next().unwrap_or_default().to_owned()
        }
        None if std::io::stdin().is_terminal() => {
            let first = rpassword::prompt_password("Password: ").map_err(|e| e.to_string())?;
            let again = rpassword::prompt_password("Again: ").map_err(|e| e.to_string())?;
            if first != again {
                return Err("the passwords differ".to_owned());
            }
            first
        }
        None => {
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line).map_err(|e| e.to_string())?;
            line.trim_end_matches(['\n', '\r']).to_owned()
        }
    };
    if password.is_empty() {
        return Err("the password is empty".to_owned());
    }
    Ok(password)
}
