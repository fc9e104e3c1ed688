//! WeCom's errcodes: a named constant for every code this crate meets, its meaning and, where a
//! person can fix the cause, a hint saying how. The client's retry policy, extraction's gap
//! rules, the operator's error messages and the simulator all name codes through this module.
//!
//! Sources: WeCom's global error list (doc 90313), the journal endpoints' pages (docs 93393,
//! 93394, 93395: 301065–301067), gettoken (doc 91039: 40013, 40001, 40091) and the frequency
//! limits (doc 90454). Errors arrive in the JSON body of an HTTP 200; an absent `errcode` is 0.
//!
//! Owns only these facts: no I/O, no policy (which codes are retried is the client's retry
//! policy's decision, which are gaps [`super::WecomError`]'s).

/// Success.
pub(crate) const OK: i64 = 0;
/// 系统繁忙: retry, at most three times (doc 90313).
pub(crate) const SYSTEM_BUSY: i64 = -1;
/// 不合法的secret参数: a wrong or reset secret, or an app that is disabled.
pub const INVALID_SECRET: i64 = 40001;
/// 不合法的CorpID.
pub(crate) const INVALID_CORP_ID: i64 = 40013;
/// 不合法的access_token: expired early, or not this app's; get a new one.
pub(crate) const INVALID_ACCESS_TOKEN: i64 = 40014;
/// 不合法的部门列表: a department id list the directory endpoints cannot read.
pub(crate) const INVALID_DEPARTMENT_LIST: i64 = 40066;
/// "secret is invalid", as gettoken answers for some wrong secrets.
pub(crate) const SECRET_INVALID: i64 = 40091;
/// 缺少access_token参数 (it belongs in the URL, not in the body).
pub(crate) const ACCESS_TOKEN_MISSING: i64 = 41001;
/// 缺少corpid参数.
pub(crate) const CORP_ID_MISSING: i64 = 41002;
/// 缺少secret参数.
pub(crate) const SECRET_MISSING: i64 = 41004;
/// access_token已过期: get a new one.
pub(crate) const ACCESS_TOKEN_EXPIRED: i64 = 42001;
/// 接口调用超过限制: blocked for the rest of the minute (or hour) whose quota is spent.
pub(crate) const FREQUENCY_LIMITED: i64 = 45009;
/// 接口并发调用超过限制: too many calls of one API at once, per corp.
pub(crate) const CONCURRENCY_LIMITED: i64 = 45033;
/// 数据格式错误: the request body is not the JSON the API takes.
pub(crate) const DATA_FORMAT_ERROR: i64 = 47001;
/// API接口无权限调用: this secret's app may not call this API.
pub const API_FORBIDDEN: i64 = 48002;
/// 指定的成员/部门/标签参数无权限: outside the app's visibility scope.
pub const NO_PRIVILEGE: i64 = 60011;
/// 不安全的访问IP: the caller's IP is not among the app's trusted IPs.
pub const IP_NOT_TRUSTED: i64 = 60020;
/// UserID不存在: `user/get` of a userid the corp does not have.
pub(crate) const USER_NOT_FOUND: i64 = 60111;
/// 无效的部门id.
pub(crate) const INVALID_DEPARTMENT_ID: i64 = 60123;
/// 无汇报应用数据拉取权限: the app is not among the journal's API apps (or may not read this
/// template).
pub const JOURNAL_NO_PERMISSION: i64 = 301065;
/// 请求参数错误: a window over the limit, a bad `limit`, filter or template id.
pub(crate) const JOURNAL_BAD_PARAMETERS: i64 = 301066;
/// 接口内部失败 of the journal service: transient, retried like [`SYSTEM_BUSY`].
pub(crate) const JOURNAL_INTERNAL_ERROR: i64 = 301067;
/// journal_uuid非法.
pub const JOURNAL_INVALID_UUID: i64 = 301084;

/// One errcode: what it means and, when a person can fix its cause, how.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Errcode {
    pub(crate) code: i64,
    pub(crate) meaning: &'static str,
    /// What to change (in the admin console, the job or the environment). For
    /// [`IP_NOT_TRUSTED`], [`hint`] adds the address WeCom saw.
    pub(crate) hint: Option<&'static str>,
}

const SECRET_HINT: &str = "the secret is wrong (the corp id is right): [source] secret (usually \
     ${WECOM_JOURNAL_SECRET}) must be the Secret of the self-built app added under 汇报 → \
     可调用接口的应用, shown in the admin console under 应用管理 → the app → Secret (App \
     Management → the app → Secret); resetting it there makes the old one invalid";

const RETRY_LATER_HINT: &str = "WeCom stayed busy through every retry: run the job again later \
     (a run resumes where the last one stopped)";

/// Every errcode this crate names, with its meaning and hint.
pub(crate) const KNOWN: &[Errcode] = &[
    Errcode {
        code: SYSTEM_BUSY,
        meaning: "system busy, try again later",
        hint: Some(RETRY_LATER_HINT),
    },
    Errcode {
        code: OK,
        meaning: "ok",
        hint: None,
    },
    Errcode {
        code: INVALID_SECRET,
        meaning: "invalid corp secret (or the secret does not belong to this corp)",
        hint: Some(SECRET_HINT),
    },
    Errcode {
        code: INVALID_CORP_ID,
        meaning: "invalid corp id",
        hint: Some(
            "the corp id is wrong: [source] corp_id (usually ${WECOM_CORP_ID}) must be the \
             企业ID (ww…) shown in the admin console under 我的企业 → 企业信息 (My Company → \
             Company Information)",
        ),
    },
    Errcode {
        code: INVALID_ACCESS_TOKEN,
        meaning: "invalid access_token",
        hint: None,
    },
    Errcode {
        code: INVALID_DEPARTMENT_LIST,
        meaning: "invalid department list",
        hint: None,
    },
    Errcode {
        code: SECRET_INVALID,
        meaning: "secret is invalid",
        hint: Some(SECRET_HINT),
    },
    Errcode {
        code: ACCESS_TOKEN_MISSING,
        meaning: "access_token missing",
        hint: None,
    },
    Errcode {
        code: CORP_ID_MISSING,
        meaning: "corpid missing",
        hint: None,
    },
    Errcode {
        code: SECRET_MISSING,
        meaning: "corpsecret missing",
        hint: None,
    },
    Errcode {
        code: ACCESS_TOKEN_EXPIRED,
        meaning: "access_token expired",
        hint: None,
    },
    Errcode {
        code: FREQUENCY_LIMITED,
        meaning: "API call frequency over the quota",
        hint: Some(
            "something else spends this corp's quota too, or [source.limits] is above the \
             corp's quota: lower it, or run again once the minute (or hour) is over",
        ),
    },
    Errcode {
        code: CONCURRENCY_LIMITED,
        meaning: "too many concurrent calls",
        hint: Some("lower [source.limits] max_in_flight"),
    },
    Errcode {
        code: DATA_FORMAT_ERROR,
        meaning: "data format error",
        hint: None,
    },
    Errcode {
        code: API_FORBIDDEN,
        meaning: "API not allowed for this secret",
        hint: Some(
            "this secret may not call this API: use the Secret of a self-built app added under \
             汇报 → 可调用接口的应用 (Journal → Apps that can call the API); the 汇报 system \
             app's own secret does not work for corps created after 2023-12-01",
        ),
    },
    Errcode {
        code: NO_PRIVILEGE,
        meaning:
            "no privilege to access this department or user (outside the app's visibility scope)",
        hint: Some(
            "widen the app's visibility scope (应用管理 → the app → 可见范围; App Management → \
             the app → Visible to) to the departments and members the job exports",
        ),
    },
    Errcode {
        code: USER_NOT_FOUND,
        meaning: "no such userid",
        hint: None,
    },
    Errcode {
        code: IP_NOT_TRUSTED,
        meaning: "server IP is not on the app's trusted IP list",
        hint: Some(
            "add this server's public IP to the app's trusted IPs (应用管理 → the app → \
             企业可信IP; App Management → the app → Trusted IPs); it takes effect in about a \
             minute",
        ),
    },
    Errcode {
        code: INVALID_DEPARTMENT_ID,
        meaning: "invalid department id",
        hint: None,
    },
    Errcode {
        code: JOURNAL_NO_PERMISSION,
        meaning: "no permission to pull journal data",
        hint: Some(
            "in the admin console, add the app under 汇报 → 可调用接口的应用 (Journal → Apps \
             that can call the API)",
        ),
    },
    Errcode {
        code: JOURNAL_BAD_PARAMETERS,
        meaning: "invalid request parameters (time window over the limit, bad limit or id)",
        hint: None,
    },
    Errcode {
        code: JOURNAL_INTERNAL_ERROR,
        meaning: "journal API internal failure",
        hint: Some(RETRY_LATER_HINT),
    },
    Errcode {
        code: JOURNAL_INVALID_UUID,
        meaning: "invalid journal uuid",
        hint: None,
    },
];

/// The entry of a known errcode.
pub(crate) fn lookup(code: i64) -> Option<&'static Errcode> {
    KNOWN.iter().find(|e| e.code == code)
}

/// What an errcode means (`unknown errcode` for one this crate does not know).
pub(crate) fn meaning(code: i64) -> &'static str {
    lookup(code).map_or("unknown errcode", |e| e.meaning)
}

/// How a person fixes what `code` says, if one can; `errmsg` is WeCom's text of the answer,
/// which for [`IP_NOT_TRUSTED`] names the address WeCom saw (`…, from ip: 1.2.3.4, …`): the
/// one to add.
pub fn hint(code: i64, errmsg: &str) -> Option<String> {
    let hint = lookup(code)?.hint?;
    if code == IP_NOT_TRUSTED {
        if let Some(ip) = reported_ip(errmsg) {
            return Some(format!(
                "add {ip} (the address WeCom saw this call come from) to the app's trusted IPs \
                 (应用管理 → the app → 企业可信IP; App Management → the app → Trusted IPs); it \
                 takes effect in about a minute"
            ));
        }
    }
    Some(hint.to_owned())
}

/// The caller's address as WeCom reports it in an errmsg: `…, from ip: 101.43.1.2, more info …`.
fn reported_ip(errmsg: &str) -> Option<&str> {
    let (_, rest) = errmsg.split_once("from ip:")?;
    let rest = rest.trim_start();
    let end = rest
        .find(|c: char| !(c.is_ascii_hexdigit() || c == '.' || c == ':'))
        .unwrap_or(rest.len());
    let ip = &rest[..end];
    ip.parse::<std::net::IpAddr>().is_ok().then_some(ip)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_is_known_once() {
        let mut codes: Vec<i64> = KNOWN.iter().map(|e| e.code).collect();
        codes.sort();
        let before = codes.len();
        codes.dedup();
        assert_eq!(codes.len(), before, "a code listed twice");
        for e in KNOWN {
            assert!(!e.meaning.is_empty(), "{}", e.code);
        }
        assert_eq!(meaning(12345), "unknown errcode");
        assert_eq!(hint(12345, ""), None);
        assert_eq!(hint(INVALID_ACCESS_TOKEN, ""), None);
    }

    #[test]
    fn the_fixable_codes_say_how() {
        assert!(hint(JOURNAL_NO_PERMISSION, "")
            .unwrap()
            .contains("可调用接口的应用"));
        assert!(hint(INVALID_CORP_ID, "").unwrap().contains("corp_id"));
        for secret in [INVALID_SECRET, SECRET_INVALID] {
            assert!(hint(secret, "").unwrap().contains("[source] secret"));
        }
        assert!(hint(API_FORBIDDEN, "").unwrap().contains("2023-12-01"));
        assert!(hint(NO_PRIVILEGE, "").unwrap().contains("visibility scope"));
    }

    #[test]
    fn the_untrusted_ip_hint_names_the_address_wecom_saw() {
        // The shape of a real answer (hint token shortened).
        let errmsg = "not allow to access from your ip, hint: [1655799424626], from ip: \
                      101.43.8.9, more info at https://open.work.weixin.qq.com/devtool/query?e=60020";
        let hint = hint(IP_NOT_TRUSTED, errmsg).unwrap();
        assert!(hint.starts_with("add 101.43.8.9 (the address"), "{hint}");
        assert_eq!(
            reported_ip("…, from ip: 2001:db8::1, more info"),
            Some("2001:db8::1")
        );
        // No address in the text: the general advice.
        let general = super::hint(IP_NOT_TRUSTED, "not allow to access from your ip").unwrap();
        assert!(
            general.starts_with("add this server's public IP"),
            "{general}"
        );
        assert_eq!(reported_ip("from ip: **masked**"), None);
    }
}
