from tests.security.matrix import Route, client_only, staff_only

CONTENT = {"sections": [{"key": "s1", "title": "Auto", "intro": "", "questions": [
    {"key": "q1", "type": "yes_no", "label": "Auto gekocht?"},
    {"key": "q2", "type": "short_text", "label": "Kenteken"}]}]}


def arrange(make, world):  # type: ignore[no-untyped-def]
    from datetime import timedelta

    from portal import clock, db
    from portal.audit import Actor
    from portal.questionnaires import service
    from portal.tenancy.models import Practice

    demo, company = world["demo"], world["company"]
    admin = world["users"]["admin"][1]
    actor = Actor(demo.id, "staff", admin.id, admin.email)
    with make.app.app_context():
        session = db.session
        template = service.create_template(session, actor, "Jaarrekening", None, CONTENT)
        practice = session.get(Practice, demo.id)
        batch = service.send(session, actor, practice, template, [company.id],
                             deadline=clock.now() + timedelta(days=7), message=None)
        from sqlalchemy import select

        assignment = session.scalar(select(service.Assignment))
        client = session.get(service.Client, company.id)
        service.add_question(session, actor, client, "Kenteken?", None)
        question_list = service.send_questions(session, actor, practice, client, None, None)
        question = session.scalar(select(service.Question))
    world.update(template=template, batch=batch, assignment=assignment,
                 question_list=question_list, loose=question)


def _fill(w, tail=""):  # type: ignore[no-untyped-def]
    return f"/c/{w['company'].id}/questionnaires/{w['assignment'].id}{tail}"


def _tpl(w, tail=""):  # type: ignore[no-untyped-def]
    return f"/office/questionnaires/{w['template'].id}{tail}"


ROUTES = [
    Route("questionnaires.index", "GET", "/office/questionnaires", staff_only()),
    Route("questionnaires.create_template", "POST", "/office/questionnaires", staff_only(),
          {"name": ""}),
    Route("questionnaires.template", "GET", _tpl, staff_only()),
    Route("questionnaires.add_section", "POST", lambda w: _tpl(w, "/sections"), staff_only(),
          {"title": ""}),
    Route("questionnaires.section_action", "POST", lambda w: _tpl(w, "/sections/s1"),
          staff_only(), {"action": "down"}),
    Route("questionnaires.add_question", "POST", lambda w: _tpl(w, "/sections/s1/questions"),
          staff_only(), {"label": ""}),
    Route("questionnaires.question_action", "POST", lambda w: _tpl(w, "/questions/q2"),
          staff_only(), {"action": "up"}),
    Route("questionnaires.send", "GET", lambda w: _tpl(w, "/send"), staff_only()),
    Route("questionnaires.send", "POST", lambda w: _tpl(w, "/send"), staff_only(),
          {"deadline": ""}),
    Route("questionnaires.batch", "GET",
          lambda w: f"/office/questionnaires/batches/{w['batch'].id}", staff_only()),
    Route("questionnaires.export_batch", "GET",
          lambda w: f"/office/questionnaires/batches/{w['batch'].id}/answers.csv",
          staff_only()),
    Route("questionnaires.review", "GET",
          lambda w: f"/office/questionnaires/assignments/{w['assignment'].id}", staff_only()),
    Route("questionnaires.reopen", "POST",
          lambda w: f"/office/questionnaires/assignments/{w['assignment'].id}/reopen",
          staff_only(), {"comment": ""}),
    Route("questionnaires.reviewed", "POST",
          lambda w: f"/office/questionnaires/assignments/{w['assignment'].id}/reviewed",
          staff_only()),
    Route("questionnaires.export_assignment", "GET",
          lambda w: f"/office/questionnaires/assignments/{w['assignment'].id}/answers.xlsx",
          staff_only()),
    Route("questionnaires.client_questions", "GET",
          lambda w: f"/office/clients/{w['company'].id}/questions", staff_only()),
    Route("questionnaires.add_loose_question", "POST",
          lambda w: f"/office/clients/{w['company'].id}/questions", staff_only(),
          {"text": ""}),
    Route("questionnaires.send_loose_questions", "POST",
          lambda w: f"/office/clients/{w['company'].id}/questions/send", staff_only()),
    Route("questionnaires.question_step", "POST",
          lambda w: f"/office/questions/{w['loose'].id}/done", staff_only()),
    Route("questionnaires.fill", "GET", _fill, client_only()),
    Route("questionnaires.section", "GET", lambda w: _fill(w, "/s/s1"), client_only()),
    Route("questionnaires.save_section", "POST", lambda w: _fill(w, "/s/s1"), client_only(),
          {"q1": "yes"}),
    Route("questionnaires.save_answer", "POST", lambda w: _fill(w, "/q/q2"), client_only(),
          {"q2": "AB-12-CD"}),
    Route("questionnaires.submit", "POST", lambda w: _fill(w, "/submit"), client_only()),
    Route("questionnaires.answer_questions", "GET",
          lambda w: f"/c/{w['company'].id}/questions/{w['question_list'].id}", client_only()),
    Route("questionnaires.answer_question", "POST",
          lambda w: f"/c/{w['company'].id}/questions/{w['question_list'].id}/"
                    f"{w['loose'].id}", client_only(), {"answer": ""}),
]
