"""The platform error hierarchy that every service raises and maps.

Each error carries a stable machine ``code`` (the name of the status it maps
to), an English and a Chinese message, and optionally the ``field`` at fault
and the ``rule`` it broke. The table that turns ``code`` into a gRPC status
lives with the gRPC glue, so this module imports nothing but the standard
library and pure domain code can raise these errors freely.

Messages reach clients and logs: never put personal data (ID numbers, phone
numbers, names) into them.

Example:
    >>> err = InvalidArgument.required("phone")
    >>> str(err)
    'phone: a value is required / 此项为必填项'
    >>> err.code, err.rule
    ('INVALID_ARGUMENT', 'phone.required')
"""

from __future__ import annotations

from typing import Any, ClassVar


class ZhiyuanError(Exception):
    """Base of every error a service reports to its callers.

    Example:
        >>> err = ZhiyuanError("something broke", "出现错误")
        >>> str(err), err.code
        ('something broke / 出现错误', 'UNKNOWN')
    """

    code: ClassVar[str] = "UNKNOWN"

    def __init__(
        self,
        message_en: str,
        message_zh: str,
        *,
        field: str | None = None,
        rule: str | None = None,
    ) -> None:
        super().__init__(message_en, message_zh)
        self.message_en = message_en
        self.message_zh = message_zh
        self.field = field
        self.rule = rule

    def __str__(self) -> str:
        text = f"{self.message_en} / {self.message_zh}"
        return f"{self.field}: {text}" if self.field else text

    def __reduce__(self) -> tuple[Any, ...]:
        # Subclasses order their constructor arguments differently, so the
        # default Exception pickling (cls(*args)) would scramble them; errors
        # do cross process boundaries (nameko workers, test runners).
        return (_restore, (type(self), dict(self.__dict__)))

    def to_dict(self) -> dict[str, str]:
        """The error as a JSON-ready body, omitting absent field and rule.

        Example:
            >>> NotFound.entity("volunteer", "志愿者", "V1").to_dict()["code"]
            'NOT_FOUND'
        """
        body = {
            "code": self.code,
            "message_en": self.message_en,
            "message_zh": self.message_zh,
        }
        if self.field:
            body["field"] = self.field
        if self.rule:
            body["rule"] = self.rule
        return body


def _restore(cls: type[ZhiyuanError], state: dict[str, Any]) -> ZhiyuanError:
    err = cls.__new__(cls)
    Exception.__init__(err, state.get("message_en"), state.get("message_zh"))
    err.__dict__.update(state)
    return err


class InvalidArgument(ZhiyuanError):
    """A request value broke a validation rule; always names field and rule.

    Example:
        >>> str(InvalidArgument("age", "age.range", "must be 14+", "须年满14周岁"))
        'age: must be 14+ / 须年满14周岁'
    """

    code: ClassVar[str] = "INVALID_ARGUMENT"
    field: str
    rule: str

    def __init__(self, field: str, rule: str, message_en: str, message_zh: str) -> None:
        super().__init__(message_en, message_zh, field=field, rule=rule)

    @classmethod
    def required(cls, field: str) -> InvalidArgument:
        """A mandatory value is missing or blank.

        Example:
            >>> InvalidArgument.required("name").rule
            'name.required'
        """
        return cls(field, f"{field}.required", "a value is required", "此项为必填项")

    @classmethod
    def too_long(cls, field: str, max_length: int) -> InvalidArgument:
        """A text value exceeds its maximum length.

        Example:
            >>> InvalidArgument.too_long("name", 50).message_zh
            '长度不能超过 50 个字符'
        """
        return cls(
            field,
            f"{field}.max_length",
            f"must be at most {max_length} characters long",
            f"长度不能超过 {max_length} 个字符",
        )


class NotFound(ZhiyuanError):
    """The addressed entity does not exist (or is invisible to the caller).

    Example:
        >>> str(NotFound.entity("volunteer", "志愿者", "V1"))
        "volunteer 'V1' was not found / 未找到志愿者“V1”"
    """

    code: ClassVar[str] = "NOT_FOUND"

    @classmethod
    def entity(cls, kind_en: str, kind_zh: str, key: str) -> NotFound:
        """No ``kind`` with this public key (never pass personal data as key)."""
        return cls(f"{kind_en} '{key}' was not found", f"未找到{kind_zh}“{key}”")

    @classmethod
    def named_by(cls, field: str, kind_en: str, kind_zh: str, key: str) -> NotFound:
        """:meth:`entity`, named by the request's ``field`` (rule
        ``<field>.exists``): another tenant's row and no row alike."""
        err = cls.entity(kind_en, kind_zh, key)
        err.field, err.rule = field, f"{field}.exists"
        return err


class AlreadyExists(ZhiyuanError):
    """Creating the entity would duplicate one that exists.

    Example:
        >>> AlreadyExists.entity("team", "队伍", "T7", field="name").message_zh
        '队伍“T7”已存在'
    """

    code: ClassVar[str] = "ALREADY_EXISTS"

    @classmethod
    def entity(
        cls, kind_en: str, kind_zh: str, key: str, *, field: str | None = None
    ) -> AlreadyExists:
        """A ``kind`` with this key exists already."""
        return cls(
            f"{kind_en} '{key}' already exists",
            f"{kind_zh}“{key}”已存在",
            field=field,
            rule=f"{field}.unique" if field else None,
        )


class FailedPrecondition(ZhiyuanError):
    """The entity's state forbids the operation (an illegal transition).

    Example:
        >>> err = FailedPrecondition.transition("hours record", "时长记录",
        ...                                     "approved", "submitted")
        >>> err.message_zh
        '时长记录当前状态为 approved，不能变更为 submitted'
    """

    code: ClassVar[str] = "FAILED_PRECONDITION"

    @classmethod
    def transition(
        cls, kind_en: str, kind_zh: str, current: str, target: str
    ) -> FailedPrecondition:
        """``kind`` cannot move from state ``current`` to ``target``."""
        return cls(
            f"{kind_en} cannot go from '{current}' to '{target}'",
            f"{kind_zh}当前状态为 {current}，不能变更为 {target}",
            rule="state.transition",
        )


class PermissionDenied(ZhiyuanError):
    """The caller is authenticated but lacks the scope or role for this.

    Example:
        >>> err = PermissionDenied.outside_scope("division_code", "6102", "6101")
        >>> err.message_en, err.message_zh
        ('6102 lies outside your jurisdiction 6101', '6102 不在您的管辖范围（6101）内')
    """

    code: ClassVar[str] = "PERMISSION_DENIED"

    @classmethod
    def outside_scope(cls, field: str, code: str, scope: str) -> PermissionDenied:
        """A division ``code`` lies outside the caller's ``scope`` subtree."""
        return cls(
            f"{code} lies outside your jurisdiction {scope}",
            f"{code} 不在您的管辖范围（{scope}）内",
            field=field,
            rule="scope.contains",
        )

    @classmethod
    def no_scope(cls) -> PermissionDenied:
        """The principal holds no scope at all, so it may see nothing."""
        return cls(
            "no jurisdiction is assigned to this account",
            "该账号未分配管辖范围，无权访问任何数据",
            rule="scope.required",
        )

    @classmethod
    def missing_role(cls, role: str) -> PermissionDenied:
        """The operation needs ``role``, which the principal does not hold."""
        return cls(
            f"this operation requires the role '{role}'",
            f"此操作需要“{role}”角色权限",
            rule="role.required",
        )


class Unauthenticated(ZhiyuanError):
    """No valid credentials came with the request.

    Example:
        >>> Unauthenticated.invalid_token().message_zh
        '登录凭证无效或已过期，请重新登录'
    """

    code: ClassVar[str] = "UNAUTHENTICATED"

    @classmethod
    def missing_token(cls) -> Unauthenticated:
        """The request carried no credentials."""
        return cls("authentication is required", "请先登录")

    @classmethod
    def invalid_token(cls) -> Unauthenticated:
        """The token's signature, issuer, audience or expiry did not verify."""
        # Deliberately one message for every reason: telling a caller which
        # check failed helps someone forging tokens more than a real user.
        return cls(
            "the token is invalid or has expired", "登录凭证无效或已过期，请重新登录"
        )


class ResourceExhausted(ZhiyuanError):
    """Too many attempts: the caller must wait ``retry_after`` seconds
    (HTTP 429 with ``Retry-After``).

    Example:
        >>> err = ResourceExhausted.locked_out("username", 90)
        >>> err.code, err.retry_after, err.rule
        ('RESOURCE_EXHAUSTED', 90, 'login.locked')
    """

    code: ClassVar[str] = "RESOURCE_EXHAUSTED"
    retry_after: int = 0

    @classmethod
    def locked_out(cls, field: str, seconds: int) -> ResourceExhausted:
        """Login refused for ``seconds`` after too many failed attempts."""
        err = cls(
            f"too many failed logins; try again in {seconds} s",
            f"登录失败次数过多，请 {seconds} 秒后再试",
            field=field,
            rule="login.locked",
        )
        err.retry_after = seconds
        return err


ERRORS_BY_CODE: dict[str, type[ZhiyuanError]] = {
    cls.code: cls
    for cls in (
        InvalidArgument,
        NotFound,
        AlreadyExists,
        FailedPrecondition,
        PermissionDenied,
        Unauthenticated,
        ResourceExhausted,
    )
}
"""Error class per code, for clients rebuilding an error from a status."""


class Unavailable(ZhiyuanError):
    """A service this call depends on (registration) did not answer in time.

    Example:
        >>> Unavailable("registration did not answer", "注册服务无响应").code
        'UNAVAILABLE'
    """

    code: ClassVar[str] = "UNAVAILABLE"

    @classmethod
    def database(cls) -> Unavailable:
        """The service's own database cannot be reached (restart, failover)."""
        return cls(
            "the database is unavailable, please try again shortly",
            "数据库暂不可用，请稍后重试",
            rule="database.available",
        )

    @classmethod
    def dependency(cls) -> Unavailable:
        """A service or the broker this call needs cannot be reached."""
        return cls(
            "a service this request needs is unavailable, please try again shortly",
            "所依赖的服务暂不可用，请稍后重试",
            rule="service.available",
        )

    @classmethod
    def of(cls, exc: BaseException) -> Unavailable | None:
        """What to tell a caller when ``exc`` means something could not be
        reached (see :func:`unavailable`), else None.

        Example:
            >>> Unavailable.of(ConnectionRefusedError()).rule
            'service.available'
            >>> Unavailable.of(ValueError()) is None
            True
        """
        chain = [e for e in _chain(exc) if _unreachable(e)]
        if not chain:
            return None
        if isinstance(chain[0], ZhiyuanError):
            return chain[0] if isinstance(chain[0], Unavailable) else cls.dependency()
        database = any(
            type(e).__module__.split(".")[0] in ("sqlalchemy", "psycopg", "sqlite3")
            for e in chain
        )
        return cls.database() if database else cls.dependency()


TRANSIENT, PERMANENT, UNKNOWN = "transient", "permanent", "unknown"
"""Kinds of failure (:func:`failure_kind`): worth retrying for minutes,
never worth retrying, or worth a couple of quick retries."""

# SQLSTATE classes of a database that cannot be reached or is going away:
# connection exception, insufficient resources (too many clients), operator
# intervention (shutdown, cannot connect now); and a database that does not
# exist yet (being created).
_UNREACHABLE_SQLSTATE = ("08", "53", "57", "3D000")
# Conflicts between transactions that a retry resolves: serialization
# failure, deadlock, a unique race between two inserts.
_CONFLICT_SQLSTATE = ("40001", "40P01", "23505")
_SQLITE_CONFLICT = ("database is locked", "UNIQUE constraint failed")


def failure_kind(exc: BaseException) -> str:
    """How a worker should treat ``exc``: :data:`TRANSIENT` when the database,
    the broker or a called service is unavailable or two transactions
    collided; :data:`PERMANENT` for a platform error (a broken rule, bad
    input); :data:`UNKNOWN` otherwise.

    Example:
        >>> failure_kind(ConnectionRefusedError(111, "refused"))
        'transient'
        >>> failure_kind(InvalidArgument.required("name")), failure_kind(KeyError("x"))
        ('permanent', 'unknown')
    """
    chain = _chain(exc)
    if any(_unreachable(e) or _conflict(e) for e in chain):
        return TRANSIENT
    if isinstance(exc, ZhiyuanError):
        return PERMANENT
    return UNKNOWN


def unavailable(exc: BaseException) -> bool:
    """True when ``exc`` (or what caused it) says the database, the broker or
    a called service could not be reached: a caller should try again later.

    Example:
        >>> unavailable(TimeoutError()), unavailable(ValueError("bad"))
        (True, False)
    """
    return any(_unreachable(e) for e in _chain(exc))


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    todo: list[BaseException | None] = [exc]
    while todo and len(seen) < 12:
        err = todo.pop()
        if err is None or any(err is s for s in seen):
            continue
        seen.append(err)
        orig = getattr(err, "orig", None)  # SQLAlchemy's wrapped DBAPI error
        todo += [err.__cause__, err.__context__]
        if isinstance(orig, BaseException):
            todo.append(orig)
    return seen


def _sqlstate(err: BaseException) -> str | None:
    state = getattr(err, "sqlstate", None) or getattr(err, "pgcode", None)
    return state if isinstance(state, str) else None


def _unreachable(err: BaseException) -> bool:
    if isinstance(err, ZhiyuanError):
        return err.code == "UNAVAILABLE"
    if isinstance(err, ConnectionError | TimeoutError):
        return True
    mro = {f"{c.__module__}.{c.__qualname__}" for c in type(err).__mro__}
    if mro & {
        "sqlalchemy.exc.DisconnectionError",
        "sqlalchemy.exc.TimeoutError",  # no pooled connection came free
        "sqlalchemy.exc.InterfaceError",
        "psycopg.InterfaceError",
        "kombu.exceptions.OperationalError",
        "amqp.exceptions.ConnectionError",
    }:
        return True
    if getattr(err, "connection_invalidated", False):
        return True
    if "psycopg.OperationalError" in mro:
        state = _sqlstate(err)
        # No SQLSTATE: the connection itself failed (refused, reset, closed).
        return state is None or state.startswith(_UNREACHABLE_SQLSTATE)
    if "sqlite3.OperationalError" in mro:
        return "unable to open database" in str(err)
    code = getattr(err, "code", None)
    if callable(code) and "grpc.RpcError" in mro:
        name = getattr(code(), "name", "")
        return name in ("UNAVAILABLE", "DEADLINE_EXCEEDED")
    return False


def _conflict(err: BaseException) -> bool:
    state = _sqlstate(err)
    if state is not None:
        return state in _CONFLICT_SQLSTATE
    if type(err).__module__ == "sqlite3":
        return str(err).startswith(_SQLITE_CONFLICT)
    return False


def one_line(exc: BaseException) -> str:
    """``exc`` as one short log line (a driver's message may span several).

    Example:
        >>> one_line(ValueError("bad\\n  value"))
        'ValueError: bad value'
    """
    text = f"{type(exc).__name__}: {exc}"
    return " ".join(text.split())[:300]
