"""Tables the engine itself needs beside the registers: dictionaries, schema changes, audit and login logs,
background jobs, workflow history, the inbox, warnings and the users' list columns."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, Index, Integer, String, Text, UniqueConstraint, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def build_engine_tables(base: type[DeclarativeBase]) -> dict[str, type]:
    class DictionaryItem(base):
        """One item of a dictionary; ``path`` is the materialised path '/a/b/c/' of codes from the root."""

        __tablename__ = "sys_dictionary_item"
        __table_args__ = (
            UniqueConstraint("dictionary", "code"),
            Index("ix_sys_dictionary_item_parent", "dictionary", "parent_code", "sort"),
            Index("ix_sys_dictionary_item_path", "dictionary", "path",
                  postgresql_ops={"path": "varchar_pattern_ops"}),
        )
        id: Mapped[int] = mapped_column(Integer, primary_key=True)
        dictionary: Mapped[str] = mapped_column(String(40))
        code: Mapped[str] = mapped_column(String(64))
        parent_code: Mapped[str | None] = mapped_column(String(64))
        path: Mapped[str] = mapped_column(String(700))
        depth: Mapped[int] = mapped_column(Integer)
        sort: Mapped[int] = mapped_column(Integer, default=0)
        label_zh: Mapped[str] = mapped_column(String(200))
        label_zh_hant: Mapped[str] = mapped_column(String(200))
        label_en: Mapped[str] = mapped_column(String(300))
        color: Mapped[str | None] = mapped_column(String(7))

    class DictionaryVersion(base):
        """What was last synced for a dictionary, so an unchanged one is not rewritten."""

        __tablename__ = "sys_dictionary"
        name: Mapped[str] = mapped_column(String(40), primary_key=True)
        digest: Mapped[str] = mapped_column(String(64))
        item_count: Mapped[int] = mapped_column(Integer)
        synced_at: Mapped[datetime] = mapped_column(DateTime, server_default=func.now())

    class SchemaChange(base):
        """One applied migration plan (who ran it, when, which operations)."""

        __tablename__ = "sys_schema_change"
        id: Mapped[int] = mapped_column(Integer, primary_key=True)
        applied_at: Mapped[datetime] = mapped_column(DateTime, server_default=func.now())
        plan: Mapped[str] = mapped_column(Text)
        #: the operating-system account and machine that ran `flask metadata migrate`
        applied_by: Mapped[str | None] = mapped_column(String(200))
        #: the SQL statements the database ran for this plan, in order
        statements: Mapped[str | None] = mapped_column(Text)

    class AuditLog(base):
        """One changed field of one register row: who, when, from which organisation, old → new."""

        __tablename__ = "sys_audit_log"
        __table_args__ = (
            Index("ix_sys_audit_log_row", "register", "row_id", "id"),
            Index("ix_sys_audit_log_at", "at", "id"),
            Index("ix_sys_audit_log_user", "user_id", "at"),
        )
        id: Mapped[int] = mapped_column(Integer, primary_key=True)
        at: Mapped[datetime] = mapped_column(DateTime)
        user_id: Mapped[int | None] = mapped_column(Integer)
        username: Mapped[str | None] = mapped_column(String(100))
        organisation_id: Mapped[int | None] = mapped_column(Integer)
        register: Mapped[str] = mapped_column(String(40))
        row_id: Mapped[int] = mapped_column(Integer)
        action: Mapped[str] = mapped_column(String(10))
        field: Mapped[str | None] = mapped_column(String(60))
        old_value: Mapped[str | None] = mapped_column(Text)
        new_value: Mapped[str | None] = mapped_column(Text)

    class LoginLog(base):
        """Every sign-in attempt, successful or not."""

        __tablename__ = "sys_login_log"
        __table_args__ = (Index("ix_sys_login_log_at", "at", "id"), Index("ix_sys_login_log_user", "username", "at"))
        id: Mapped[int] = mapped_column(Integer, primary_key=True)
        at: Mapped[datetime] = mapped_column(DateTime)
        username: Mapped[str] = mapped_column(String(100))
        user_id: Mapped[int | None] = mapped_column(Integer)
        success: Mapped[bool] = mapped_column(Boolean)
        reason: Mapped[str | None] = mapped_column(String(40))
        ip: Mapped[str | None] = mapped_column(String(64))

    class Job(base):
        """A background import or export: who asked, its progress, and the result kept for later."""

        __tablename__ = "sys_job"
        __table_args__ = (Index("ix_sys_job_user", "user_id", "id"),)
        id: Mapped[int] = mapped_column(Integer, primary_key=True)
        kind: Mapped[str] = mapped_column(String(10))
        register: Mapped[str] = mapped_column(String(40))
        user_id: Mapped[int | None] = mapped_column(Integer)
        locale: Mapped[str] = mapped_column(String(10))
        mode: Mapped[str | None] = mapped_column(String(20))
        status: Mapped[str] = mapped_column(String(10))
        stage: Mapped[str | None] = mapped_column(String(20))
        done: Mapped[int] = mapped_column(Integer, default=0)
        total: Mapped[int] = mapped_column(Integer, default=0)
        file_name: Mapped[str | None] = mapped_column(String(255))
        stored: Mapped[str | None] = mapped_column(String(255))
        arguments: Mapped[str | None] = mapped_column(Text)
        result: Mapped[str | None] = mapped_column(Text)
        output: Mapped[str | None] = mapped_column(String(255))
        message: Mapped[str | None] = mapped_column(Text)
        created_at: Mapped[datetime] = mapped_column(DateTime)
        heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime)
        finished_at: Mapped[datetime | None] = mapped_column(DateTime)

    class WorkflowHistory(base):
        """One transition taken on one row: who, from which organisation, when, from → to, comment, files."""

        __tablename__ = "sys_workflow_history"
        __table_args__ = (Index("ix_sys_workflow_history_row", "register", "row_id", "id"),)
        id: Mapped[int] = mapped_column(Integer, primary_key=True)
        register: Mapped[str] = mapped_column(String(40))
        row_id: Mapped[int] = mapped_column(Integer)
        transition: Mapped[str] = mapped_column(String(40))
        from_state: Mapped[str] = mapped_column(String(40))
        to_state: Mapped[str] = mapped_column(String(40))
        at: Mapped[datetime] = mapped_column(DateTime)
        user_id: Mapped[int | None] = mapped_column(Integer)
        username: Mapped[str | None] = mapped_column(String(100))
        user_name: Mapped[str | None] = mapped_column(String(200))
        organisation_id: Mapped[int | None] = mapped_column(Integer)
        organisation_name: Mapped[str | None] = mapped_column(String(200))
        comment: Mapped[str | None] = mapped_column(Text)
        attachments: Mapped[list | None] = mapped_column(JSON)
        signature: Mapped[dict | None] = mapped_column(JSON)

    class Message(base):
        """An in-app inbox message to one user, about one row (a transition's notice, a deadline warning)."""

        __tablename__ = "sys_message"
        __table_args__ = (Index("ix_sys_message_user", "user_id", "read_at", "id"),
                          UniqueConstraint("user_id", "dedup_key"))
        id: Mapped[int] = mapped_column(Integer, primary_key=True)
        user_id: Mapped[int] = mapped_column(Integer)
        created_at: Mapped[datetime] = mapped_column(DateTime)
        register: Mapped[str | None] = mapped_column(String(40))
        row_id: Mapped[int | None] = mapped_column(Integer)
        kind: Mapped[str] = mapped_column(String(20))
        #: the message in the three UI languages, as written when it was sent
        text_zh: Mapped[str] = mapped_column(Text)
        text_zh_hant: Mapped[str] = mapped_column(Text)
        text_en: Mapped[str] = mapped_column(Text)
        sender: Mapped[str | None] = mapped_column(String(200))
        read_at: Mapped[datetime | None] = mapped_column(DateTime)
        #: a warning sent once per cause (e.g. 'overdue:hazard:12:2026-11-30'); NULL for ordinary notices
        dedup_key: Mapped[str | None] = mapped_column(String(120))

    class Warning(base):
        """One warning (预警) of one row: open while the row meets the warning's condition, then resolved (the cause
        went away) or closed by a user with a reason; kept afterwards as its history. One per row and cause (the
        date it was raised on), so a warning closed by hand does not come back until the date changes."""

        __tablename__ = "sys_warning"
        __table_args__ = (UniqueConstraint("rule", "row_id", "cause"),
                          Index("ix_sys_warning_open", "state", "register", "rule", "id"),
                          Index("ix_sys_warning_row", "register", "row_id"))
        id: Mapped[int] = mapped_column(Integer, primary_key=True)
        #: the warning's name in metadata/warnings/ (or the deadline it is implied by)
        rule: Mapped[str] = mapped_column(String(40))
        register: Mapped[str] = mapped_column(String(40))
        row_id: Mapped[int] = mapped_column(Integer)
        #: the date the warning was raised on (ISO), '' for a warning without a date condition
        cause: Mapped[str] = mapped_column(String(40), default="")
        level: Mapped[str] = mapped_column(String(10))
        #: open, resolved (the cause went away) or closed (by a user, with a reason)
        state: Mapped[str] = mapped_column(String(10))
        opened_at: Mapped[datetime] = mapped_column(DateTime)
        ended_at: Mapped[datetime | None] = mapped_column(DateTime)
        closed_by_id: Mapped[int | None] = mapped_column(Integer)
        closed_by: Mapped[str | None] = mapped_column(String(200))
        reason: Mapped[str | None] = mapped_column(Text)

    class DocumentCounter(base):
        """The last number given by one document sequence in one year (and one issuing organisation, 0 for all)."""

        __tablename__ = "sys_document_counter"
        sequence: Mapped[str] = mapped_column(String(40), primary_key=True)
        organisation_id: Mapped[int] = mapped_column(Integer, primary_key=True)
        year: Mapped[int] = mapped_column(Integer, primary_key=True)
        last: Mapped[int] = mapped_column(Integer)

    class DocumentRecord(base):
        """One document of one row: its number (given once, the first time it was made) and the stamped scan
        uploaded back (盖章扫描件), if any."""

        __tablename__ = "sys_document"
        __table_args__ = (UniqueConstraint("register", "row_id", "document"),
                          Index("ix_sys_document_number", "number"))
        id: Mapped[int] = mapped_column(Integer, primary_key=True)
        register: Mapped[str] = mapped_column(String(40))
        row_id: Mapped[int] = mapped_column(Integer)
        document: Mapped[str] = mapped_column(String(40))
        sequence: Mapped[str | None] = mapped_column(String(40))
        organisation_id: Mapped[int | None] = mapped_column(Integer)
        year: Mapped[int | None] = mapped_column(Integer)
        n: Mapped[int | None] = mapped_column(Integer)
        #: the number as printed (常新应急责改〔2026〕12号)
        number: Mapped[str | None] = mapped_column(String(120))
        numbered_at: Mapped[datetime | None] = mapped_column(DateTime)
        numbered_by: Mapped[int | None] = mapped_column(Integer)
        #: the stamped scan: a file record of app/storage.py
        scan: Mapped[dict | None] = mapped_column(JSON)
        scan_at: Mapped[datetime | None] = mapped_column(DateTime)
        scan_by: Mapped[int | None] = mapped_column(Integer)

    class ListPreference(base):
        """One user's columns of one register's list (列设置): their order and those hidden."""

        __tablename__ = "sys_list_preference"
        __table_args__ = (UniqueConstraint("user_id", "register"),)
        id: Mapped[int] = mapped_column(Integer, primary_key=True)
        user_id: Mapped[int] = mapped_column(Integer)
        register: Mapped[str] = mapped_column(String(40))
        #: {"order": [column, …], "hidden": [column, …]}
        columns: Mapped[dict] = mapped_column(JSON)
        updated_at: Mapped[datetime] = mapped_column(DateTime, server_default=func.now())

    class ApiToken(base):
        """A personal API token (个人中心 → API 令牌): only its SHA-256 is kept; revoked tokens stay listed."""

        __tablename__ = "sys_api_token"
        __table_args__ = (UniqueConstraint("token_hash"), Index("ix_sys_api_token_user", "user_id"))
        id: Mapped[int] = mapped_column(Integer, primary_key=True)
        user_id: Mapped[int] = mapped_column(Integer)
        name: Mapped[str] = mapped_column(String(100))
        #: the token's first characters, to tell tokens apart on the page
        prefix: Mapped[str] = mapped_column(String(16))
        token_hash: Mapped[str] = mapped_column(String(64))
        created_at: Mapped[datetime] = mapped_column(DateTime)
        expires_at: Mapped[datetime] = mapped_column(DateTime)
        last_used_at: Mapped[datetime | None] = mapped_column(DateTime)
        revoked_at: Mapped[datetime | None] = mapped_column(DateTime)

    return {"ApiToken": ApiToken, "DictionaryItem": DictionaryItem, "ListPreference": ListPreference, "Job": Job, "DocumentCounter": DocumentCounter,
            "DocumentRecord": DocumentRecord, "DictionaryVersion": DictionaryVersion,
            "SchemaChange": SchemaChange, "AuditLog": AuditLog, "LoginLog": LoginLog,
            "WorkflowHistory": WorkflowHistory, "Message": Message, "Warning": Warning}
