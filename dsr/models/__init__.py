"""All models, imported here so Alembic and the app see the whole schema."""

from dsr.models.api import ApiKey, WebhookDelivery, WebhookSubscriber
from dsr.models.attachment import RequestAttachment
from dsr.models.audit import AuditEvent
from dsr.models.consent import (
    ConsentEvent,
    DataSubject,
    IdentifierKind,
    ProcessingFlag,
    PropagationJob,
    PropagationScope,
    PropagationStatus,
    SubjectIdentifier,
)
from dsr.models.erasure import CorrectionItem, Decision, ErasurePlan, PlanStatus
from dsr.models.fulfilment import (
    Bundle,
    FulfilmentJob,
    FulfilmentTask,
    JobKind,
    JobStatus,
    TaskStatus,
)
from dsr.models.job_run import JobOutcome, JobRun, JobTrigger, scheduler_jobs
from dsr.models.letter import ResponseTemplate
from dsr.models.message import MessageKind, RequestMessage
from dsr.models.outbox import Channel, OutboxMessage, OutboxStatus
from dsr.models.reminder import SentReminder
from dsr.models.request import DataSubjectRequest, RequestPause
from dsr.models.rules import DeadlineRule
from dsr.models.suppression import SuppressionEntry
from dsr.models.user import Role, StaffUser
from dsr.models.verification import ChallengeState, VerificationChallenge

__all__ = [
    "ApiKey",
    "WebhookDelivery",
    "WebhookSubscriber",
    "CorrectionItem",
    "Decision",
    "ErasurePlan",
    "PlanStatus",
    "ConsentEvent",
    "DataSubject",
    "IdentifierKind",
    "ProcessingFlag",
    "PropagationJob",
    "PropagationScope",
    "PropagationStatus",
    "SubjectIdentifier",
    "SuppressionEntry",
    "Bundle",
    "FulfilmentJob",
    "FulfilmentTask",
    "JobKind",
    "JobStatus",
    "TaskStatus",
    "ResponseTemplate",
    "ChallengeState",
    "MessageKind",
    "RequestMessage",
    "RequestAttachment",
    "VerificationChallenge",
    "AuditEvent",
    "DataSubjectRequest",
    "DeadlineRule",
    "RequestPause",
    "Role",
    "StaffUser",
    "Channel",
    "OutboxMessage",
    "OutboxStatus",
    "JobOutcome",
    "JobRun",
    "JobTrigger",
    "SentReminder",
    "scheduler_jobs",
]
