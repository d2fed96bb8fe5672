//! `hearth user ...` and `hearth token ...`: account administration on the database directly.

use std::sync::Arc;

use hearth_core::{Config, config::check_data_dir, utils::now_millis};
use hearth_service::Services;
use ruma::{OwnedUserId, UserId};

use super::{TokenCommand, UserCommand, duration::parse_expiry, password_input::read_password};

pub async fn run_user(config: Config, command: UserCommand) -> Result<(), String> {
    let services = open(config)?;
    match command {
        UserCommand::Create { name, admin, password_file } => {
            let user_id = user_id(&services, &name, true)?;
            let password = read_password(password_file.as_deref())?;
            services.accounts.check_password_strength(&password).map_err(|e| e.to_string())?;
            services
                .accounts
                .create_user(&user_id, Some(password), admin, false, None)
                .await
                .map_err(|e| e.to_string())?;
            println!("Created {user_id}{}", if admin { " (admin)" } else { "" });
        }
        UserCommand::ResetPassword { name, password_file } => {
            let user_id = user_id(&services, &name, false)?;
            let user = services.ctx.storage.get_user(&user_id).await.map_err(|e| e.to_string())?;
            if user.is_none() {
                return Err(format!("no such user {user_id}"));
            }
            let password = read_password(password_file.as_deref())?;
            services
                .accounts
                .reset_password(&user_id, password)
                .await
                .map_err(|e| e.to_string())?;
            println!("Password of {user_id} changed; all its sessions are logged out");
        }
    }
    Ok(())
}

pub async fn run_token(config: Config, command: TokenCommand) -> Result<(), String> {
    let TokenCommand::Create { uses, expires } = command;
    let expiry = expires.map(|e| parse_expiry(&e, now_millis())).transpose()?;
    let services = open(config)?;
    let token = services
        .accounts
        .create_registration_token(uses, expiry)
        .await
        .map_err(|e| e.to_string())?;
    println!("{token}");
    Ok(())
}

fn open(config: Config) -> Result<Arc<Services>, String> {
    check_data_dir(&config, true).map_err(|e| e.to_string())?;
    hearth_service::tls::install_crypto_provider();
    let storage =
        hearth_storage::open_sqlite(&config.database_path(), 1).map_err(|e| e.to_string())?;
    Services::new(Arc::new(config), storage).map_err(|e| e.to_string())
}

/// `NAME` is a localpart or a full user ID of this server. New names follow the
/// registration rules; existing ones are taken as they are.
fn user_id(services: &Services, name: &str, new: bool) -> Result<OwnedUserId, String> {
    let server_name = &services.config().server_name;
    let localpart = match name.strip_prefix('@') {
        Some(_) => {
            let id = UserId::parse(name).map_err(|e| format!("invalid user ID {name}: {e}"))?;
            if id.server_name() != server_name {
                return Err(format!("{name} is not a user of this server ({server_name})"));
            }
            id.localpart().to_owned()
        }
        None => name.to_owned(),
    };
    if new {
        services.accounts.new_user_id(&localpart).map_err(|e| e.to_string())
    } else {
        UserId::parse_with_server_name(localpart.to_lowercase(), server_name)
            .map_err(|e| format!("invalid user name {name}: {e}"))
    }
}
