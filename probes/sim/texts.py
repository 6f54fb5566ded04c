"""What the simulated brands and strangers say, in the languages of the example study.

Each kind has a few short, polite variants per language. Redirects and automatic
acknowledgements use the wording `study.kinds` recognises in that language (a test checks
that every template is classified as its kind), so the runner's classification can be tested
against the simulator's ground truth.
"""

from __future__ import annotations

import random
from enum import StrEnum


class Say(StrEnum):
    ANSWER = "answer"  # a public answer
    REDIRECT = "redirect"  # a public "please DM us"
    DM = "dm"  # an answer by direct message
    AUTO_ACK = "auto_ack"  # an automatic acknowledgement


TEMPLATES: dict[str, dict[Say, tuple[str, ...]]] = {
    "en": {
        Say.ANSWER: (
            "Thanks for getting in touch! You can see the latest status in your account "
            "under Orders, and we're happy to help further here.",
            "Hi, thanks for your patience. We've checked this and a colleague will follow up "
            "with the details today.",
            "Sorry for the trouble! This usually takes 3 to 5 working days; let us know if "
            "anything is still unclear.",
        ),
        Say.REDIRECT: (
            "Sorry to hear that! Please send us a DM so we can look into it.",
            "We'd like to help. Could you send us a direct message with the details?",
        ),
        Say.DM: (
            "Hi, thanks for waiting. We have looked into your question: everything is on its "
            "way and you will get an update by e-mail shortly.",
            "Hello again! We checked this for you and have sorted it out. Anything else we can do?",
        ),
        Say.AUTO_ACK: (
            "This is an automatic reply: we have received your message and will get back to "
            "you as soon as possible.",
        ),
    },
    "de": {
        Say.ANSWER: (
            "Danke für deine Nachricht! Den aktuellen Stand findest du in deinem Konto unter "
            "Bestellungen. Wir helfen gern weiter.",
            "Hallo, danke für deine Geduld. Wir haben das geprüft und melden uns heute noch "
            "mit den Details.",
        ),
        Say.REDIRECT: (
            "Das tut uns leid! Bitte schick uns eine Direktnachricht, damit wir uns das "
            "ansehen können.",
        ),
        Say.DM: (
            "Hallo, danke fürs Warten. Wir haben uns das angesehen: Alles ist unterwegs, du "
            "bekommst in Kürze ein Update per E-Mail.",
        ),
        Say.AUTO_ACK: (
            "Automatische Antwort: Wir haben deine Nachricht erhalten und melden uns so bald "
            "wie möglich.",
        ),
    },
    "fr": {
        Say.ANSWER: (
            "Merci pour votre message ! Vous trouverez le suivi dans votre compte, rubrique "
            "Commandes. Nous restons à votre disposition.",
            "Bonjour, merci de votre patience. Nous avons vérifié et revenons vers vous "
            "aujourd'hui avec les détails.",
        ),
        Say.REDIRECT: (
            "Nous sommes désolés ! Envoyez-nous un message privé afin que nous puissions "
            "regarder cela.",
        ),
        Say.DM: (
            "Bonjour, merci d'avoir patienté. Nous avons vérifié : tout est en cours et vous "
            "recevrez une mise à jour par e-mail.",
        ),
        Say.AUTO_ACK: (
            "Réponse automatique : nous avons bien reçu votre message et vous répondrons dès "
            "que possible.",
        ),
    },
    "es": {
        Say.ANSWER: (
            "¡Gracias por escribirnos! Puedes ver el estado en tu cuenta, en Pedidos. Estamos "
            "aquí para ayudarte.",
            "Hola, gracias por tu paciencia. Lo hemos revisado y te contactaremos hoy con los "
            "detalles.",
        ),
        Say.REDIRECT: ("¡Lo sentimos! Envíanos un mensaje directo para que podamos revisarlo.",),
        Say.DM: (
            "Hola, gracias por esperar. Lo hemos revisado: todo está en camino y recibirás "
            "una actualización por correo.",
        ),
        Say.AUTO_ACK: (
            "Respuesta automática: hemos recibido tu mensaje y te responderemos lo antes posible.",
        ),
    },
    "it": {
        Say.ANSWER: (
            "Grazie per averci scritto! Trovi lo stato nel tuo account, alla voce Ordini. "
            "Siamo qui per aiutarti.",
        ),
        Say.REDIRECT: ("Ci dispiace! Inviaci un messaggio privato così possiamo verificare.",),
        Say.DM: (
            "Ciao, grazie per l'attesa. Abbiamo verificato: è tutto in corso e riceverai un "
            "aggiornamento via e-mail.",
        ),
        Say.AUTO_ACK: (
            "Risposta automatica: abbiamo ricevuto il tuo messaggio e ti risponderemo al più "
            "presto.",
        ),
    },
    "nl": {
        Say.ANSWER: (
            "Bedankt voor je bericht! Je ziet de status in je account onder Bestellingen. We "
            "helpen je graag verder.",
        ),
        Say.REDIRECT: (
            "Wat vervelend! Stuur ons een privébericht, dan zoeken we het voor je uit.",
        ),
        Say.DM: (
            "Hoi, bedankt voor het wachten. We hebben het bekeken: alles is onderweg en je "
            "krijgt snel een update per e-mail.",
        ),
        Say.AUTO_ACK: (
            "Automatisch antwoord: we hebben je bericht ontvangen en reageren zo snel mogelijk.",
        ),
    },
    "sv": {
        Say.ANSWER: (
            "Tack för att du hör av dig! Du ser statusen i ditt konto under Beställningar. Vi "
            "hjälper gärna till.",
        ),
        Say.REDIRECT: ("Vad tråkigt! Skicka oss ett privatmeddelande så tittar vi på det.",),
        Say.DM: (
            "Hej, tack för att du väntade. Vi har kollat: allt är på väg och du får snart en "
            "uppdatering via e-post.",
        ),
        Say.AUTO_ACK: (
            "Automatiskt svar: vi har tagit emot ditt meddelande och återkommer så snart vi kan.",
        ),
    },
    "pl": {
        Say.ANSWER: (
            "Dziękujemy za kontakt! Status znajdziesz na swoim koncie w zakładce Zamówienia. "
            "Chętnie pomożemy dalej.",
        ),
        Say.REDIRECT: ("Przykro nam! Wyślij nam wiadomość prywatną, a sprawdzimy to.",),
        Say.DM: (
            "Dzień dobry, dziękujemy za cierpliwość. Sprawdziliśmy: wszystko jest w drodze, "
            "wkrótce dostaniesz e-mail.",
        ),
        Say.AUTO_ACK: (
            "Automatyczna odpowiedź: otrzymaliśmy Twoją wiadomość i odpowiemy najszybciej, "
            "jak to możliwe.",
        ),
    },
    "tr": {
        Say.ANSWER: (
            "Bize yazdığınız için teşekkürler! Durumu hesabınızda Siparişler bölümünde "
            "görebilirsiniz. Yardımcı olmaktan memnuniyet duyarız.",
        ),
        Say.REDIRECT: (
            "Bunu duyduğumuza üzüldük! Lütfen bize özel mesaj gönderin, hemen inceleyelim.",
        ),
        Say.DM: (
            "Merhaba, beklediğiniz için teşekkürler. Kontrol ettik: her şey yolda, kısa süre "
            "içinde e-posta ile bilgi alacaksınız.",
        ),
        Say.AUTO_ACK: ("Otomatik yanıt: mesajınızı aldık, en kısa sürede size dönüş yapacağız.",),
    },
    "pt": {
        Say.ANSWER: (
            "Obrigado pelo contato! Você pode ver o status na sua conta, em Pedidos. Estamos "
            "à disposição.",
        ),
        Say.REDIRECT: (
            "Sentimos muito! Envie uma mensagem direta para nós para podermos verificar.",
        ),
        Say.DM: (
            "Olá, obrigado por aguardar. Verificamos: está tudo a caminho e você receberá "
            "uma atualização por e-mail.",
        ),
        Say.AUTO_ACK: (
            "Resposta automática: recebemos sua mensagem e responderemos o mais rápido possível.",
        ),
    },
    "ja": {
        Say.ANSWER: (
            "お問い合わせありがとうございます。ご注文の状況はアカウントの「注文履歴」でご確認いただけます。",
        ),
        Say.REDIRECT: (
            "ご不便をおかけして申し訳ございません。詳しくお調べしますので、ダイレクトメッセージをお送りください。",
        ),
        Say.DM: (
            "お待たせいたしました。確認したところ、すべて手配済みです。まもなくメールでお知らせします。",
        ),
        Say.AUTO_ACK: ("自動返信：メッセージを受け付けました。担当者より順次ご連絡いたします。",),
    },
    "ko": {
        Say.ANSWER: (
            "문의해 주셔서 감사합니다. 주문 상태는 계정의 주문 내역에서 확인하실 수 있습니다.",
        ),
        Say.REDIRECT: ("불편을 드려 죄송합니다. 확인을 위해 다이렉트 메시지를 보내주세요.",),
        Say.DM: (
            "기다려 주셔서 감사합니다. 확인 결과 모두 처리되었으며 "
            "곧 이메일로 안내해 드리겠습니다.",
        ),
        Say.AUTO_ACK: ("자동 응답: 메시지를 받았습니다. 최대한 빨리 답변드리겠습니다.",),
    },
}

# Accounts that are nobody's brand: they mention the probe account now and then.
STRANGER_HANDLES = ("maria_k_83", "tomgrows", "nightowl_dev", "pixelpatti", "j_okafor")

# Strangers write in English whatever the country: a runner must tell them from brands by
# who wrote, not by what was written.
STRANGER = (
    "Same here, I've been waiting for days too.",
    "Did you ever get an answer? Asking for a friend.",
    "Good luck, they never reply to me.",
    "Following, I have the same question.",
)


def say(kind: Say, language: str, rng: random.Random) -> str:
    """One template of `kind` in `language` (English when the language has none)."""
    variants = TEMPLATES.get(language, TEMPLATES["en"])[kind]
    return rng.choice(variants)
