"""Starter surveys a principal can begin from, in English and Spanish.

Each starter listens before a rollout (or checks back after one): what people need, how a
change would fit their day, and what would make it harder. Questions are plain data so the
builder copies them into a new survey, where they can be edited like any other question.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from schools.pillars import Pillar

from .models import Audience, NeedCategory, QuestionKind

L, S, M, T = QuestionKind.LIKERT, QuestionKind.SINGLE, QuestionKind.MULTIPLE, QuestionKind.TEXT


@dataclass(frozen=True)
class StarterQuestion:
    kind: str
    text: str
    text_es: str
    pillar: str = ""
    need: str = ""
    required: bool = False
    sentiment: bool = False
    choices: tuple[tuple[str, str], ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Starter:
    key: str
    label: str
    title: str
    title_es: str
    purpose: str
    purpose_es: str
    audiences: tuple[str, ...]
    questions: tuple[StarterQuestion, ...]


TEACHERS = Starter(
    key="teachers_before",
    label="Teachers: listening before a rollout",
    title="Before we choose: what do you need?",
    title_es="Antes de decidir: ¿qué necesita?",
    purpose="We are planning a change in how we use technology for learning. Before anything "
    "is bought, we want to hear what would help your teaching and what would get in the way.",
    purpose_es="Estamos planeando un cambio en el uso de la tecnología para aprender. Antes de "
    "comprar nada, queremos saber qué ayudaría a su enseñanza y qué la dificultaría.",
    audiences=(Audience.TEACHERS, Audience.STAFF),
    questions=(
        StarterQuestion(
            L,
            "The devices and tools I have now help my students learn.",
            "Los dispositivos y herramientas que tengo ahora ayudan a aprender a mis estudiantes.",
            Pillar.ENGAGEMENT,
            NeedCategory.DEVICES,
            required=True,
        ),
        StarterQuestion(
            L,
            "I have enough time in my week to try a new tool and plan with it.",
            "Tengo suficiente tiempo en la semana para probar una herramienta nueva y planificar "
            "con ella.",
            Pillar.PROFESSIONAL_LEARNING,
            NeedCategory.TIME,
            required=True,
        ),
        StarterQuestion(
            L,
            "When technology fails in class, I can get help quickly.",
            "Cuando la tecnología falla en clase, consigo ayuda rápidamente.",
            Pillar.SPACES,
            NeedCategory.SUPPORT,
            required=True,
        ),
        StarterQuestion(
            L,
            "The professional learning I get is useful in my own classroom.",
            "La formación profesional que recibo me sirve en mi propia aula.",
            Pillar.PROFESSIONAL_LEARNING,
            NeedCategory.TRAINING,
        ),
        StarterQuestion(
            M,
            "Which kinds of support would help you most? Choose all that apply.",
            "¿Qué tipo de apoyo le ayudaría más? Elija todos los que correspondan.",
            Pillar.PROFESSIONAL_LEARNING,
            NeedCategory.TRAINING,
            choices=(
                ("A colleague coaching me in my classroom", "Un colega que me acompañe en el aula"),
                ("Time to plan with my team", "Tiempo para planificar con mi equipo"),
                ("Short how-to videos", "Videos cortos de cómo hacerlo"),
                ("A workshop before school starts", "Un taller antes de empezar las clases"),
            ),
        ),
        StarterQuestion(
            T,
            "How could a new tool make your day easier rather than harder?",
            "¿Cómo podría una herramienta nueva facilitar su día en lugar de complicarlo?",
            Pillar.ENGAGEMENT,
            NeedCategory.TIME,
        ),
        StarterQuestion(
            T,
            "What worries you about this change?",
            "¿Qué le preocupa de este cambio?",
            Pillar.COMMUNICATION,
            NeedCategory.SUPPORT,
        ),
    ),
)

STUDENTS = Starter(
    key="students_before",
    label="Students: listening before a rollout",
    title="Tell us how you learn best",
    title_es="Cuéntanos cómo aprendes mejor",
    purpose="Your school is thinking about new ways to use technology in class. Your answers "
    "help us choose what will really help you learn.",
    purpose_es="Tu escuela está pensando en nuevas formas de usar la tecnología en clase. Tus "
    "respuestas nos ayudan a elegir lo que de verdad te ayude a aprender.",
    audiences=(Audience.STUDENTS,),
    questions=(
        StarterQuestion(
            L,
            "In class, I often get to create something of my own.",
            "En clase, muchas veces puedo crear algo propio.",
            Pillar.ENGAGEMENT,
            required=True,
        ),
        StarterQuestion(
            L,
            "The technology at school helps me understand what we learn.",
            "La tecnología de la escuela me ayuda a entender lo que aprendemos.",
            Pillar.ENGAGEMENT,
            NeedCategory.DEVICES,
            required=True,
        ),
        StarterQuestion(
            L,
            "I can get online at home when I need to do schoolwork.",
            "Puedo conectarme a internet en casa cuando necesito hacer tareas.",
            Pillar.SPACES,
            NeedCategory.CONNECTIVITY,
            required=True,
        ),
        StarterQuestion(
            L,
            "I know who to ask when a device or app does not work.",
            "Sé a quién preguntar cuando un dispositivo o una aplicación no funciona.",
            Pillar.SPACES,
            NeedCategory.SUPPORT,
        ),
        StarterQuestion(
            S,
            "Where do you usually do schoolwork that needs the internet?",
            "¿Dónde sueles hacer las tareas que necesitan internet?",
            Pillar.SPACES,
            NeedCategory.CONNECTIVITY,
            choices=(
                ("At home", "En casa"),
                ("At school, before or after class", "En la escuela, antes o después de clase"),
                ("At a library or community centre", "En una biblioteca o centro comunitario"),
                ("On a phone, wherever I am", "En un teléfono, donde esté"),
                ("I usually cannot", "Normalmente no puedo"),
            ),
        ),
        StarterQuestion(
            T,
            "What is one thing that would make learning at school better for you?",
            "¿Qué es una cosa que haría mejor el aprendizaje en la escuela para ti?",
            Pillar.ENGAGEMENT,
        ),
    ),
)

FAMILIES = Starter(
    key="families_before",
    label="Families: listening before a rollout",
    title="Families: help us plan",
    title_es="Familias: ayúdennos a planificar",
    purpose="We want technology at school to bring us closer to your family, not further "
    "apart. Tell us what works for you today and what you would need from us.",
    purpose_es="Queremos que la tecnología en la escuela nos acerque a su familia, no que nos "
    "aleje. Díganos qué les funciona hoy y qué necesitarían de nosotros.",
    audiences=(Audience.FAMILIES,),
    questions=(
        StarterQuestion(
            L,
            "I feel welcome at my child's school.",
            "Me siento bienvenido/a en la escuela de mi hijo/a.",
            Pillar.BRANDING,
            required=True,
            sentiment=True,
        ),
        StarterQuestion(
            L,
            "The school tells me what I need to know, in time.",
            "La escuela me informa a tiempo de lo que necesito saber.",
            Pillar.COMMUNICATION,
            NeedCategory.COMMUNICATION,
            required=True,
            sentiment=True,
        ),
        StarterQuestion(
            L,
            "We have reliable internet at home for schoolwork.",
            "Tenemos internet confiable en casa para las tareas escolares.",
            Pillar.SPACES,
            NeedCategory.CONNECTIVITY,
            required=True,
        ),
        StarterQuestion(
            L,
            "I would know how to help my child if a school device stopped working.",
            "Sabría cómo ayudar a mi hijo/a si un dispositivo de la escuela dejara de funcionar.",
            Pillar.SPACES,
            NeedCategory.SUPPORT,
        ),
        StarterQuestion(
            M,
            "How do you prefer to hear from the school? Choose all that apply.",
            "¿Cómo prefiere recibir noticias de la escuela? Elija todas las que correspondan.",
            Pillar.COMMUNICATION,
            NeedCategory.COMMUNICATION,
            choices=(
                ("Text message", "Mensaje de texto"),
                ("E-mail", "Correo electrónico"),
                ("Phone call", "Llamada telefónica"),
                ("Paper note home", "Nota en papel"),
                ("Social media", "Redes sociales"),
            ),
        ),
        StarterQuestion(
            T,
            "What would help your family take part more in your child's learning?",
            "¿Qué ayudaría a su familia a participar más en el aprendizaje de su hijo/a?",
            Pillar.COMMUNICATION,
            NeedCategory.COMMUNICATION,
        ),
    ),
)

FOLLOW_UP = Starter(
    key="follow_up",
    label="Everyone: follow-up after a rollout",
    title="Now that it is in place: how is it going?",
    title_es="Ahora que ya está en marcha: ¿cómo va?",
    purpose="A few months ago we listened before making a change. Now we would like to know "
    "whether it is helping, and what we should fix.",
    purpose_es="Hace unos meses escuchamos antes de hacer un cambio. Ahora queremos saber si "
    "está ayudando y qué debemos mejorar.",
    audiences=(Audience.TEACHERS, Audience.STUDENTS, Audience.FAMILIES),
    questions=(
        StarterQuestion(
            L,
            "The change has made learning better.",
            "El cambio ha mejorado el aprendizaje.",
            Pillar.ENGAGEMENT,
            required=True,
        ),
        StarterQuestion(
            L,
            "The change fits into my day without extra hassle.",
            "El cambio encaja en mi día sin complicaciones adicionales.",
            Pillar.ENGAGEMENT,
            NeedCategory.TIME,
            required=True,
        ),
        StarterQuestion(
            L,
            "I got the help I needed to use it well.",
            "Recibí la ayuda que necesitaba para usarlo bien.",
            Pillar.PROFESSIONAL_LEARNING,
            NeedCategory.TRAINING,
            required=True,
        ),
        StarterQuestion(
            L,
            "I was kept informed about what was happening and why.",
            "Me mantuvieron informado/a de lo que pasaba y por qué.",
            Pillar.COMMUNICATION,
            NeedCategory.COMMUNICATION,
            sentiment=True,
        ),
        StarterQuestion(
            T,
            "What should we keep doing?",
            "¿Qué deberíamos seguir haciendo?",
            Pillar.ENGAGEMENT,
        ),
        StarterQuestion(
            T,
            "What should we fix first?",
            "¿Qué deberíamos arreglar primero?",
            Pillar.ENGAGEMENT,
            NeedCategory.SUPPORT,
        ),
    ),
)

STARTERS = {s.key: s for s in (TEACHERS, STUDENTS, FAMILIES, FOLLOW_UP)}
