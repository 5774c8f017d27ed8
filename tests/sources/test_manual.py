"""`manual` systems turn a request into a task staff can follow."""

from dsr.domain.dataset import SubjectIdentities
from dsr.domain.requests import RequestType
from dsr.sources.manual import manual_tasks


def test_each_manual_system_becomes_a_task_saying_what_to_look_for(demo_dataset):
    identities = SubjectIdentities.of(email="Asha.Verma@example.com", phone="+91 98450 12345")
    (task,) = manual_tasks(demo_dataset, RequestType.ACCESS, identities)
    assert task.system_key == "events_sheet"
    assert task.title == "Find and export the person's data in Webinar sign-up spreadsheet"
    assert "Note each row you find" in task.description
    assert "- Email address: asha.verma@example.com" in task.description
    assert "- Phone number (digits): 919845012345" in task.description


def test_deletion_has_its_own_instructions(demo_dataset):
    (task,) = manual_tasks(demo_dataset, RequestType.DELETION, SubjectIdentities.of(email="a@example.com"))
    assert task.title.startswith("Delete the person's data from")
    assert "delete each matching row" in task.instructions
