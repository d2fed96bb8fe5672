//! User-interactive authentication (spec: client-server-api "User-Interactive Authentication
//! API").
//!
//! An endpoint that needs UIA calls [`Service::check`] (or [`Service::check_user`] for the
//! common "confirm with your password" case) before doing anything. It returns `Ok` once the
//! client has completed every stage of one of the offered flows; until then it returns
//! `Error::Uiaa`, which the HTTP layer renders as the spec's 401 body (flows, completed,
//! session, and `errcode`/`error` after a failed stage).
//!
//! Sessions live in memory: a restart only makes clients start their UIA again.

use std::{
    collections::HashMap,
    sync::{Arc, Weak},
    time::Duration,
};

use hearth_core::{Error, Result, utils::random_string};
use parking_lot::Mutex;
use ruma::{
    OwnedUserId, UserId,
    api::{
        client::uiaa::{AuthData, AuthFlow, AuthType, UiaaInfo},
        error::{ErrorKind, StandardErrorBody},
    },
};
use serde_json::Value;
use tokio::time::Instant;

use crate::{Ctx, Services};

/// How long a client has to finish a UIA session.
const SESSION_LIFETIME: Duration = Duration::from_secs(30 * 60);

pub struct Service {
    ctx: Arc<Ctx>,
    services: Weak<Services>,
    sessions: Mutex<HashMap<String, Session>>,
    /// What completed sessions produced, by session and action, for endpoints that answer a
    /// retry of a completed session the same way (registration).
    outcomes: Mutex<HashMap<(String, String), (Value, Instant)>>,
}

struct Session {
    /// Who is authenticating; `None` during registration.
    user: Option<OwnedUserId>,
    /// What the session authorizes, e.g. `"POST /register"`: a session is not reusable for
    /// another operation.
    action: String,
    completed: Vec<AuthType>,
    /// The parameters of the first request, for endpoints whose later requests may omit them.
    params: Value,
    /// The registration token the client proved, if any.
    registration_token: Option<String>,
    created: Instant,
}

/// One UIA check: who, for what, which flows are offered, and the client's `auth` dict.
pub struct UiaaRequest<'a> {
    pub user: Option<&'a UserId>,
    pub action: &'a str,
    pub flows: Vec<AuthFlow>,
    pub auth: Option<&'a AuthData>,
    /// What the endpoint wants kept from the first request (see [`Completed::params`]).
    pub params: Value,
}

/// What a completed session proved.
#[derive(Debug, Default)]
pub struct Completed {
    /// The session's ID.
    pub session: String,
    /// The parameters stored with the session's first request.
    pub params: Value,
    pub registration_token: Option<String>,
}

impl Service {
    pub(crate) fn new(ctx: Arc<Ctx>, services: Weak<Services>) -> Self {
        Service {
            ctx,
            services,
            sessions: Mutex::new(HashMap::new()),
            outcomes: Mutex::new(HashMap::new()),
        }
    }

    /// Remember what a completed session produced, for [`Service::outcome`].
    pub fn set_outcome(&self, session: &str, action: &str, outcome: Value) {
        let mut outcomes = self.outcomes.lock();
        let now = Instant::now();
        outcomes.retain(|_, (_, at)| now.duration_since(*at) < SESSION_LIFETIME);
        outcomes.insert((session.to_owned(), action.to_owned()), (outcome, now));
    }

    /// What the completed session `session` produced for `action`, while it is recent.
    pub fn outcome(&self, session: &str, action: &str) -> Option<Value> {
        let outcomes = self.outcomes.lock();
        let (value, at) = outcomes.get(&(session.to_owned(), action.to_owned()))?;
        (at.elapsed() < SESSION_LIFETIME).then(|| value.clone())
    }

    /// Confirm a sensitive action of a logged-in user with their password (`m.login.password`).
    /// Accounts without a password (guests) cannot pass.
    pub async fn check_user(
        &self,
        user: &UserId,
        auth: Option<&AuthData>,
        action: &str,
    ) -> Result<()> {
        let record = self.ctx.storage.get_user(user).await?;
        if record.is_none_or(|r| r.password_hash.is_none()) {
            return Err(Error::forbidden(
                "This account has no password to confirm the action with",
            ));
        }
        let flows = vec![AuthFlow::new(vec![AuthType::Password])];
        let req = UiaaRequest { user: Some(user), action, flows, auth, params: Value::Null };
        self.check(req).await.map(|_| ())
    }

    /// Run one step of UIA. `Ok` when a flow is complete (the session is then spent).
    pub async fn check(&self, req: UiaaRequest<'_>) -> Result<Completed> {
        let Some(auth) = req.auth else {
            // A first request never succeeds: answer with the flows and a new session.
            let id = self.open_session(&req);
            return Err(self.challenge(&id, &req.flows, None));
        };
        let id = match auth.session() {
            Some(id) => {
                self.check_session(id, &req)?;
                id.to_owned()
            }
            // Clients may start with a stage straight away (e.g. a lone `m.login.dummy`).
            None => self.open_session(&req),
        };
        if let Some(stage) = auth.auth_type() {
            self.attempt_stage(&id, &req, auth, stage).await?;
        }
        self.finish_if_complete(&id, &req.flows)
    }

    fn open_session(&self, req: &UiaaRequest<'_>) -> String {
        let id = random_string(24);
        let mut sessions = self.sessions.lock();
        let now = Instant::now();
        sessions.retain(|_, s| now.duration_since(s.created) < SESSION_LIFETIME);
        sessions.insert(
            id.clone(),
            Session {
                user: req.user.map(ToOwned::to_owned),
                action: req.action.to_owned(),
                completed: Vec::new(),
                params: req.params.clone(),
                registration_token: None,
                created: now,
            },
        );
        id
    }

    fn check_session(&self, id: &str, req: &UiaaRequest<'_>) -> Result<()> {
        let sessions = self.sessions.lock();
        let session = sessions
            .get(id)
            .filter(|s| s.created.elapsed() < SESSION_LIFETIME)
            .ok_or_else(|| Error::forbidden("Unknown or expired authentication session"))?;
        if session.action != req.action {
            return Err(Error::forbidden("The authentication session is for another operation"));
        }
        if session.user.as_deref() != req.user {
            return Err(Error::forbidden("The authentication session belongs to another user"));
        }
        Ok(())
    }

    async fn attempt_stage(
        &self,
        id: &str,
        req: &UiaaRequest<'_>,
        auth: &AuthData,
        stage: AuthType,
    ) -> Result<()> {
        let completed = self.completed(id);
        if completed.contains(&stage) {
            return Ok(());
        }
        // Stages are completed in order: the stage must come next in some offered flow.
        let allowed = req.flows.iter().any(|f| {
            f.stages.starts_with(&completed) && f.stages.get(completed.len()) == Some(&stage)
        });
        if !allowed {
            let error = (ErrorKind::Forbidden, format!("Stage {stage} is not expected now"));
            return Err(self.challenge(id, &req.flows, Some(error)));
        }
        match self.verify_stage(req.user, auth).await? {
            Ok(token) => {
                let mut sessions = self.sessions.lock();
                if let Some(session) = sessions.get_mut(id) {
                    session.completed.push(stage);
                    session.registration_token = token.or(session.registration_token.take());
                }
                Ok(())
            }
            Err(error) => Err(self.challenge(id, &req.flows, Some(error))),
        }
    }

    /// `Ok(Ok(token))` when the stage passed (with the registration token it proved),
    /// `Ok(Err(..))` when it failed and the client may try again.
    async fn verify_stage(
        &self,
        user: Option<&UserId>,
        auth: &AuthData,
    ) -> Result<Result<Option<String>, (ErrorKind, String)>> {
        let services = self.services.upgrade().ok_or_else(|| Error::internal("shutting down"))?;
        match auth {
            AuthData::Dummy(_) => Ok(Ok(None)),
            AuthData::Password(p) => {
                let claimed = services.accounts.user_id_from_identifier(&p.identifier)?;
                match services.accounts.check_password(&claimed, &p.password).await {
                    // Another account's valid credentials prove nothing about this one: a
                    // plain 403, not a stage to retry (Synapse).
                    Ok(()) if user != Some(&*claimed) => {
                        Err(Error::forbidden("The credentials are for another user"))
                    }
                    Ok(()) => Ok(Ok(None)),
                    Err(Error::Matrix { .. }) => {
                        Ok(Err((ErrorKind::Forbidden, "Invalid password".to_owned())))
                    }
                    Err(e) => Err(e),
                }
            }
            AuthData::RegistrationToken(t) => {
                let now = hearth_core::utils::now_millis();
                if self.ctx.storage.registration_token_valid(&t.token, now).await? {
                    Ok(Ok(Some(t.token.clone())))
                } else {
                    // Synapse answers an invalid token this way.
                    let error = "Invalid registration token".to_owned();
                    Ok(Err((ErrorKind::Unauthorized, error)))
                }
            }
            _ => Ok(Err((ErrorKind::Unrecognized, "Unsupported authentication type".to_owned()))),
        }
    }

    fn completed(&self, id: &str) -> Vec<AuthType> {
        self.sessions.lock().get(id).map(|s| s.completed.clone()).unwrap_or_default()
    }

    fn finish_if_complete(&self, id: &str, flows: &[AuthFlow]) -> Result<Completed> {
        let mut sessions = self.sessions.lock();
        let done = sessions.get(id).is_some_and(|s| {
            flows.iter().any(|f| f.stages.iter().all(|st| s.completed.contains(st)))
        });
        if !done {
            drop(sessions);
            return Err(self.challenge(id, flows, None));
        }
        let session = sessions.remove(id).expect("checked above");
        Ok(Completed {
            session: id.to_owned(),
            params: session.params,
            registration_token: session.registration_token,
        })
    }

    /// The 401 answer: flows, the stages done so far, the session, and the error, if any.
    fn challenge(&self, id: &str, flows: &[AuthFlow], error: Option<(ErrorKind, String)>) -> Error {
        let mut info = UiaaInfo::new(flows.to_vec());
        // Always present, `{}` when no stage has parameters (Synapse; SyTest and clients
        // expect the key).
        info.params = serde_json::value::to_raw_value(&serde_json::Map::new()).ok();
        info.session = Some(id.to_owned());
        info.completed = self.completed(id);
        info.auth_error = error.map(|(kind, message)| StandardErrorBody::new(kind, message));
        Error::Uiaa(Box::new(info))
    }
}
