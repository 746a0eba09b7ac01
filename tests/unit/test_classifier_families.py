"""The families of OTPs a real corpus showed the classifier missing, and of texts it wrongly took
for OTPs, each with cases in several languages (written for this test, not taken from the corpus).
"""

from __future__ import annotations

import pytest

from policies.candidates import ends_with_app_hash
from policies.classifier import classify

_DIGITS = str.maketrans({chr(0x06F0 + i): str(i) for i in range(10)})

# family -> (language, text, the codes it carries)
OTP_FAMILIES: dict[str, list[tuple[str, str, list[str]]]] = {
    "sms_retriever": [
        ("en", "<#> Your PayBank code is 482913\nFA+9qCX9VSu", ["482913"]),
        ("en", "[#] 318204 is your NorthPay code. kR2dW8xPq1z", ["318204"]),
        ("es", "<#> Tu código de PayBank es 662910 Qm4+ZtP0cLe", ["662910"]),
        ("pt", "<#> 4419 é o seu código NorthPay. 9pLkX2w/Az1", ["4419"]),
        ("ru", "<#> Код PayBank: 771204 hH3kL9qP0aZ", ["771204"]),
        ("id", "<#> 583920 adalah kode PayBank Anda. jD8kqLz2P0w", ["583920"]),
    ],
    # A sender's tag that some routes put before the text, ahead of the retriever prefix.
    "sms_retriever_after_a_sender_tag": [
        ("en", "[PayBank] <#> Please enter 89385 into the app.", ["89385"]),
        ("en", "PayBank: <#> Please enter 8938 into the app", ["8938"]),
        ("zh", "【PayBank】<#> 请在应用中输入 4821", ["4821"]),
    ],
    "code_before_wording": [
        ("en", "482913 is your PayBank one-time code. Don't share it.", ["482913"]),
        ("de", "123456 ist dein PayBank-Einmalkennwort. Teile es nicht.", ["123456"]),
        ("es", "662910 es tu código de NorthPay", ["662910"]),
        ("fr", "318204 est votre code NorthPay", ["318204"]),
        ("ru", "771204 — код подтверждения PayBank", ["771204"]),
        ("it", "552910 è il tuo codice di verifica PayBank", ["552910"]),
        ("tr", "551902 PayBank doğrulama kodunuzdur.", ["551902"]),
        ("zh", "482913是您的PayBank验证码", ["482913"]),
    ],
    "brand_and_code": [
        ("en", "PayBank code 65847", ["65847"]),
        ("tr", "PayBank kodu: 4821", ["4821"]),
        ("en", "NorthPay: 552910", ["552910"]),
        ("pl", "PayBank kod: 7731", ["7731"]),
        ("ru-Latn", "PayBank kod: 66291", ["66291"]),
    ],
    "wordings": [
        ("en", "Your PayBank PIN is 8831. Do not disclose it.", ["8831"]),
        ("en", "Your temporary password is 55291030", ["55291030"]),
        ("en", "Your PayBank passcode: 302918", ["302918"]),
        ("en", "Activation code for your PayBank card: 771930", ["771930"]),
        ("en", "Enter 482913 into the PayBank app to continue.", ["482913"]),
        ("en", "Your PayBank checkcode is 4419", ["4419"]),
        ("en", "[PayBank] Your identifying code is 4419, valid in 10 minutes.", ["4419"]),
        ("de", "Ihre mTAN für die Überweisung an ACME: 482913", ["482913"]),
        ("de", "PayBank TAN: 661204", ["661204"]),
        ("ru", "Пароль для входа в PayBank: 552910. Никому не сообщайте.", ["552910"]),
        ("ru-Latn", "Vash parol: 4419 dlya vhoda v PayBank", ["4419"]),
        ("tr", "PayBank işlem şifreniz 771930'dur.", ["771930"]),
        ("zh", "您的动态码为662910，请勿泄露。", ["662910"]),
        ("zh", "【PayBank】注册码：4419，5分钟内有效。", ["4419"]),
        ("zh", "校验码 302918，用于绑定银行卡。", ["302918"]),
        ("zh-Hant", "您的驗證碼為 771930，請勿告知他人。", ["771930"]),
        ("es", "Tu clave dinámica PayBank es 552910", ["552910"]),
        ("es", "Su contraseña temporal es 83920146", ["83920146"]),
        ("ar", "كود PayBank الخاص بك هو 4419", ["4419"]),
        ("ar", "رمز تعريف الدخول: 771930", ["771930"]),
        ("ja", "PayBankの認証コードは482913です。", ["482913"]),
        ("ko", "[PayBank] 인증번호 [302918]를 입력해주세요.", ["302918"]),
        ("th", "รหัส OTP ของคุณคือ 552910 (Ref: KQXZ)", ["552910"]),
        ("pl", "Kod weryfikacyjny PayBank: 771930", ["771930"]),
        ("nl", "Je PayBank verificatiecode is 4419", ["4419"]),
        ("uk", "Код підтвердження PayBank: 662910", ["662910"]),
        ("fa", "کد تایید PayBank شما: ۴۸۲۹۱۳", ["482913"]),
        ("he", "קוד האימות שלך ל-PayBank הוא 302918", ["302918"]),
        ("bn", "আপনার PayBank ওটিপি হল 771930", ["771930"]),
        ("ur", "آپ کا PayBank تصدیقی کوڈ 4419 ہے", ["4419"]),
        ("ms", "Kod TAC PayBank anda ialah 552910", ["552910"]),
        ("hi", "आपका PayBank ओटीपी 482913 है", ["482913"]),
        ("hi-Latn", "Aapka PayBank OTP 662910 hai. Kisi ke saath share na karein.", ["662910"]),
        ("vi", "Ma OTP PayBank cua ban la 302918", ["302918"]),
        ("id", "Kode OTP PayBank kamu 4419. JANGAN BERIKAN kode ini ke siapapun.", ["4419"]),
        # European Portuguese and Dutch inflections.
        ("pt", "Entre em PayBank com esta palavra-passe única 318174.", ["318174"]),
        ("nl", "552910 is uw PayBank eenmalige wachtwoord. Deel het niet.", ["552910"]),
    ],
    "code_shapes": [
        ("en", "Your PayBank code is 482 913", ["482 913"]),
        ("en", "WhatsApp code 507-240", ["507-240"]),
        ("pt", "Seu código PayBank: *552910*", ["552910"]),
        ("en", "Your PayBank code is **482913**", ["482913"]),
        ("en", "Your PayBank code is #482913", ["482913"]),
        ("fr", "Votre code PayBank est #318204", ["318204"]),
        ("en", "Your PayBank code is KXQZ", ["KXQZ"]),
        ("es", "Tu código PayBank: A7K9", ["A7K9"]),
        ("en", "Your PayBank verification code is 482913770", ["482913770"]),
        ("en", "G-481726 is your Google verification code.", ["G-481726"]),
        # A longer prefix before six digits or more is a prefix too.
        ("en", "To approve, use PRH-929890 within 3 min.", ["PRH-929890"]),
        ("th", "ใช้ SMXY-520047 ภายใน 3 นาที", ["SMXY-520047"]),
        ("en", "Acme: Your pairing code is 4829-1302", ["4829-1302"]),
        ("en", "OTP-482913 for login to PayBank. Do not share.", ["482913"]),
        ("zh", "[Steam] 动态口令为 x7jH98mx", ["x7jH98mx"]),
        # Letters of any case with digits, after "is": a temporary password.
        ("en", "Your new password is Ab12cd", ["Ab12cd"]),
        ("es", "Tu nueva contraseña es Xy7kP2", ["Xy7kP2"]),
        ("de", "Ihr neues Passwort ist Qw3rTz", ["Qw3rTz"]),
        ("fr", "Votre mot de passe temporaire est Tq4mZ8", ["Tq4mZ8"]),
    ],
    "context_between_wording_and_code": [
        ("en", "OTP for txn of INR 4,500.00 at AMAZON on card XX1234 is 482913", ["482913"]),
        ("en", "Your one-time password for account login at PayBank is 552910", ["552910"]),
        (
            "es",
            "Tu código para la compra de $1.250,00 con tarjeta terminada en 4821 es 662910",
            ["662910"],
        ),
        ("ru", "Код для оплаты 1500 руб. картой *4821: 771204", ["771204"]),
        # An abbreviation's full stop ("Rs.", "No.", "dn.") does not end the sentence.
        ("pl", "Hasło do operacji nr 2 z dn. 01.12.2026: 12345678", ["12345678"]),
        ("en", "Your OTP for transaction of Rs. 5000 on account XX1234 is 482913", ["482913"]),
        (
            "en",
            "The OTP for your transaction of USD 12.50 with merchant NETFLIX.COM using card no. "
            "ending 5678 is 482913.",
            ["482913"],
        ),
        ("pt", "O código para o pagamento de R$ 300,00 é 302918", ["302918"]),
        ("vi", "Ma xac minh tai khoan PayBank cua ban la 186789", ["186789"]),
        ("th", "รหัสแบบใช้ครั้งเดียวสำหรับบัญชี PayBank: 0932452", ["0932452"]),
    ],
    # Wording that names the code through "is" or a colon outweighs other numbers around it.
    "wording_owns_the_code": [
        (
            "en",
            "Your PayBank verification code is 48291. Support: 0800 1234, 0800 5678, ticket 9012",
            ["48291"],
        ),
        ("de", "Ihr Bestätigungscode ist 4829 (Filiale 1234, 5678, 9012)", ["4829"]),
        ("es", "Tu código de verificación es 48291. Oficina 1234, 5678 y 9012", ["48291"]),
    ],
    # A template that forgot the space after the code.
    "code_glued_to_the_next_sentence": [
        ("en", "Your verification code is 123456Please do not share it", ["123456"]),
        ("en", "Your code is:482913Valid for 5 minutes", ["482913"]),
        ("es", "Tu código es 482913No lo compartas", ["482913"]),
        ("de", "Ihr Code ist 482913Bitte nicht weitergeben", ["482913"]),
    ],
    # A code of letters and digits, of any case, before the words that name it.
    "letters_and_digits_before_the_wording": [
        ("en", "x7k2m9 is your PayBank verification code", ["x7k2m9"]),
        ("de", "x7k2m9 ist dein PayBank-Code", ["x7k2m9"]),
        ("th", "qk52x3s8 คือรหัสยืนยันเพื่อรีเซ็ตรหัสผ่าน PayBank ของคุณ", ["qk52x3s8"]),
    ],
    # A number that expires is a code, though no word calls it one.
    "code_that_expires": [
        ("en", "482913 is valid for 10 minutes. PayBank", ["482913"]),
        ("en", "PayBank: 482913 (valid 5 min). Never share it.", ["482913"]),
        ("de", "PayBank: 552910 (gültig für 5 Minuten)", ["552910"]),
        ("ru", "661204 — действителен 5 минут. PayBank", ["661204"]),
        ("es", "PayBank: 771930 válido por 10 minutos", ["771930"]),
        ("nl", "PayBank 302918 geldig voor 10 minuten", ["302918"]),
        ("en", "Please enter 89385 into PayBank within the next 30 mins.", ["89385"]),
        ("de", "PayBank: Ihre Zugangsbestätigung ist 899094, für 10 Minuten gültig.", ["899094"]),
    ],
    # "Enter 4821 … to verify": what the number is for, a few words after it.
    "purpose_after_the_code": [
        ("en", "Enter 4821 in the PayBank app to verify your phone.", ["4821"]),
        ("de", "Geben Sie 482913 in der PayBank-App ein, um sich anzumelden.", ["482913"]),
        ("es", "Introduce 662910 en la app de PayBank para verificar tu número.", ["662910"]),
    ],
    # A greeting's "customer" does not name the number after it as a customer number.
    "greeting_before_the_code": [
        ("en", "Dear customer, use 482913 as OTP to log in. Valid for 3 min", ["482913"]),
        ("en", "Dear valued customer, use 552910 to verify your PayBank login", ["552910"]),
        ("es", "Estimado cliente, usa 662910 para verificar tu cuenta", ["662910"]),
        ("fr", "Cher client, utilisez 318204 pour vous connecter", ["318204"]),
    ],
    # Two full stops after the code end a sloppy template's sentence; three, or digits
    # after them, still mask a card number.
    "sloppy_full_stops": [
        ("en", "Your PayBank OTP is 482913.. Do not share it.", ["482913"]),
        ("en", "Your NorthPay verification code is 552910..", ["552910"]),
        ("tr", "PayBank doğrulama kodunuz: 716203..", ["716203"]),
        ("th", "PayBank OTP 639817..ห้ามแจ้งรหัสกับบุคคลอื่น", ["639817"]),
    ],
    # Spaces that are not ASCII spaces (a no-break space from an HTML template, a tab).
    "odd_spaces": [
        ("en", "482\u00a0913\u00a0is\u00a0your\u00a0PayBank\u00a0code", ["482\u00a0913"]),
        ("en", "771\t204\tis your PayBank code", ["771\t204"]),
        ("es", "Tu\u00a0código\u00a0PayBank\u00a0es\u00a0662\u00a0910", ["662\u00a0910"]),
        ("ru", "Код\u202fподтверждения\u202fPayBank:\u202f771\u202f204", ["771\u202f204"]),
    ],
    # A number sign or quotes around the code.
    "code_behind_a_sign_or_in_quotes": [
        ("en", "Account: *115557* is your Samsung account verification code.", ["115557"]),
        ("en", "Use code #482913 to sign in to PayBank", ["482913"]),
        ("en", 'Your PayBank code is "#521992"', ["521992"]),
        ("en", "PayBank verification code: “QKXPDE”", ["QKXPDE"]),
        ("en", "The code to unlock your PayBank card is: *98446*", ["98446"]),
        ("es", "Su código de verificación PayBank. NORTE es #123456. No lo comparta.", ["123456"]),
        ("ar", "رمز التحقق الخاص بك هو #740318. لا تشاركه مع أحد.", ["740318"]),
        ("th", "รหัสยืนยันของคุณ#709090รหัสนี้ใช้ได้ภายใน5นาที", ["709090"]),
        ("de", "„482913“ ist Ihr PayBank-Bestätigungscode", ["482913"]),
        ("en", "Your PayBank OTP is “09whlfxu”", ["09whlfxu"]),
        ("en", "#9rvmenqf is your confirmation code to reset your PayBank password.", ["9rvmenqf"]),
    ],
    # An advertisement the sender appended after the code is no promotion of that code.
    "advertisement_after_the_code": [
        (
            "en",
            "PayBank code 65847. Download our new app today and enjoy exclusive offers on flights.",
            ["65847"],
        ),
        (
            "es",
            "PayBank código: 66291. Descarga hoy nuestra nueva aplicación y aprovecha las ofertas.",
            ["66291"],
        ),
        (
            "ru",
            "PayBank код: 77120. Установите наше новое приложение сегодня и получите скидку.",
            ["77120"],
        ),
    ],
    # OTP wording that names the code through "is" or a colon outweighs a promotion's words.
    "otp_wording_beside_a_promotion": [
        ("en", "OTP (One Time Password) for Discount Bazar by PayBank App is 3729", ["3729"]),
        ("en", "Flash sale 50% off! Your PayBank OTP is 4821", ["4821"]),
        ("es", "Oferta 20% de descuento: tu código de verificación es 48291", ["48291"]),
    ],
    # A temporary password of letters and digits a few Han characters after its word.
    "temporary_password_after_a_clause": [
        ("zh", "您好，您的PayBank密码已经重置为k7Rm2xQ9，请及时登录并修改密码。", ["k7Rm2xQ9"]),
        ("zh-Hant", "您的PayBank密碼已重設為Qx7m2K9p，請盡快登入並修改。", ["Qx7m2K9p"]),
    ],
    # A phone word names no number too short to be a phone number.
    "code_that_verifies_a_phone": [
        (
            "en",
            "[PayBank] You are verifying your mobile number (897582). Don't forward the code!",
            ["897582"],
        ),
    ],
    # "SMS" right after the code word says how the code came, not what the number is.
    "sms_after_the_code_word": [
        ("pl", "Twój kod SMS to 210978 i jest ważny przez 5 minut.", ["210978"]),
        ("en", "Your code SMS 48291 for PayBank", ["48291"]),
    ],
    # A code word that ends a compound ("~code" in wordings.toml): German, Dutch, Turkish.
    "compound_code_words": [
        ("de", "109689 ist Ihr PayBank-Wiederherstellungscode. Läuft in 5 Minuten ab.", ["109689"]),
        ("de", "Dein Rücksetzcode für PayBank ist 885854.", ["885854"]),
        ("de", "Ihr Sicherungskennwort: 48291730", ["48291730"]),
        ("nl", "PayBank herstelcode: 101956. Deel het niet.", ["101956"]),
        ("tr", "PayBank girişkodunuz 771204", ["771204"]),
    ],
    # The SMS word names the message, and the number that expires is its code.
    "the_sms_is_the_code": [
        ("de", "Ihr Grünes Netz SMS ist 961640 und ist gültig für 15 Minuten.", ["961640"]),
        ("en", "Your Acme SMS is 482913 and is valid for 15 minutes.", ["482913"]),
        ("fr", "Votre SMS Acme est 552910, valable 10 minutes.", ["552910"]),
    ],
    # A code on a line of its own, its validity on the next: nothing but the code to copy.
    "code_alone_on_its_line": [
        ("en", "46143020\nValid 5 minutes", ["46143020"]),
        ("de", "4821\nGültig 5 Minuten", ["4821"]),
        ("es", "48213377\nVálido por 5 minutos", ["48213377"]),
    ],
    # Runs of spaces: a template's empty placeholder, padded columns, a sloppy sender.
    "runs_of_spaces": [
        ("en", "Your  verification  code  is  482913", ["482913"]),
        ("en", "123  456  is  your  Instagram  code.  Don't  share  it.", ["123  456"]),
        ("es", "Tu  código  de  verificación:   771204", ["771204"]),
        ("de", "Ihr   Bestätigungscode   lautet   552910", ["552910"]),
        ("en", "Hello!  Your  BuzzSumo  verification  code  is  823  815", ["823  815"]),
        ("en", "TeamViewer  verification  code:  QGFDAE", ["QGFDAE"]),
    ],
    # Letters and digits in lower case right after a password or code noun.
    "lower_case_code_after_a_code_noun": [
        (
            "ru-Latn",
            "Podtverdite perevod na summu 123.00 RUR. Parol 33vmn3p9 . Alfa-Bank",
            ["33vmn3p9"],
        ),
        ("vi", "VCB gui ban mat khau 48366c5091", ["48366c5091"]),
        ("en", "PayBank: your password k7x2mq9 for the first login", ["k7x2mq9"]),
    ],
    # "lautet" completes a wording as "is" does, across a long clause.
    "german_lautet": [
        (
            "de",
            "Die TAN für ihre Überweisung über 100,00 Euro auf das Konto 12312312123 lautet 334855",
            ["334855"],
        ),
        ("de", "Der Freigabecode für Ihre Zahlung von 49,90 EUR an Acme lautet 771204", ["771204"]),
    ],
    # Languages beyond the 24: their code nouns, compounds ending in one, "do not share".
    "code_nouns_beyond_the_24_languages": [
        ("et", "Teie kinnituskood on 482913. Ärge jagage seda.", ["482913"]),
        ("lt", "Jūsų patvirtinimo kodas: 552910. Galioja 5 min.", ["552910"]),
        ("lv", "Jūsu verifikācijas kods: 771204", ["771204"]),
        ("sv", "Ditt registreringskod: 4821. Dela inte det.", ["4821"]),
        ("no", "Gjenopprettingskode: 663019. Ikke del den.", ["663019"]),
        ("ca", "El teu codi de verificació és 318204", ["318204"]),
        ("ka", "თქვენი კოდი: 482913", ["482913"]),
        ("kk", "Сіздің растау коды: 5521", ["5521"]),
        ("ta", "உங்கள் சரிபார்ப்பு குறியீடு: 771204", ["771204"]),
        ("hu", "Az Ön egyszer használatos jelszava: 76037367 PayBank", ["76037367"]),
        ("hu", "Az E-szamla rendszerbe a kovetkezo koddal tudsz belepni: 612134.", ["612134"]),
    ],
    # Thai without the vowel mark U+0E31, as some routes deliver it.
    "thai_without_mai_han_akat": [
        ("th", "[PayBank] รหสยืนยนของคุณคือ 771204 ใช้ได้ภายใน 5 นาที", ["771204"]),
        ("th", "รหส OTP สำหรบเข้าสู่ระบบ NorthPay คือ 552910", ["552910"]),
    ],
}

NOT_OTP_FAMILIES: dict[str, list[tuple[str, str]]] = {
    "promo_claim_admission_codes": [
        ("en", "Use promo code SAVE20 for 20% off your next order!"),
        ("en", "Your claim code is 4821-7731. Redeem it at checkout."),
        ("en", "Your admission code for the concert is 662910."),
        ("tr", "İndirim kodunuz: YAZ2026, tüm ürünlerde %30 indirim!"),
        ("tr", "Kampanya kodu 4821 ile 50 TL hediye çeki kazandınız."),
        ("es", "Usa el código promocional VERANO25 y obtén un 25% de descuento."),
        ("zh", "您的取件码为 4821，请到驿站取件。"),
        ("zh", "优惠码 SAVE88，满100减20。"),
        ("de", "Ihr Abholcode lautet 552910. Paket an der Packstation abholen."),
        ("pl", "Kod odbioru paczki: 771930. Paczkomat WAW01M."),
        ("fa", "کد تخفیف شما: OFF30 برای خرید بعدی"),
        ("ru", "Ваш промокод SALE500 на скидку 500 руб."),
        ("id", "Kode promo HEMAT50 berlaku sampai 31 Des."),
    ],
    "capitals_before_the_wording": [
        ("en", "WELCOME is your code word for the quiz night"),
        ("en", "Visit HTTPS is your code source"),
    ],
    "promotion_words_before_the_code": [
        ("en", "Big summer sale: 30% off everything in store. Show code 65847 at the till."),
        ("es", "Gran rebaja: 30% de descuento en todo. Muestra el código 65847 en caja."),
    ],
    "other_things_that_expire": [
        ("en", "Your balance 4821 is valid until 31 Dec."),
        ("en", "Your parcel 552910 is valid for pickup for 7 days."),
        ("en", "Ticket 4821 valid for 2 hours from activation."),
        ("en", "Offer valid for 3 days: use SAVE20 at checkout"),
        ("th", "ใส่โค้ด EAT99 ใช้ได้ถึง 5 มี.ค.เท่านั้น! โปรโมชั่นลด 50%"),
    ],
    "a_number_alone_that_a_word_names": [
        ("en", "Your balance:\n48213377\nValid until 31 Dec"),
        ("en", "Ticket\n48213377\nvalid for 2 hours"),
        ("de", "Ihre Kundennummer\n48213377\nVielen Dank"),
    ],
    "a_bracketed_reference_after_a_code_noun": [
        ("id", "Nomor anda terpilih dalam program pengundian dengan kode (ad25md47) u/info klik"),
    ],
    "sms_to_a_short_code": [
        ("en", "Send SMS 48291 to activate the bundle, valid for 30 days."),
        ("en", "Reply by SMS to 48291 within 10 minutes to confirm your order."),
        ("de", "Senden Sie eine SMS an 48291, gültig bis 31.12."),
    ],
    "otp_or_token_inside_other_words": [
        ("ru-Latn", "Posylka 4821 otpravlena, trek-nomer RR123456789RU"),
        ("en", "You have 5000 tokens left in your plan."),
        ("en", "Spotlight: 4821 hotpot recipes this week"),
        ("de", "Standard-Tarif 4821 aktiviert"),
    ],
    # The message speaks of codes, but no number stands where a code would.
    "codes_spoken_of_numbers_elsewhere": [
        (
            "en",
            "PayBank will never ask for your PIN, OTP or CVV. Do not share them with anyone. "
            "To block promotions send REG to 3627",
        ),
    ],
    "compounds_that_name_something_else": [
        ("en", "Your parcel barcode 48291730 is ready at the locker."),
        ("de", "Ihr Ticketcode 552910 gilt für den Eingang B."),
        ("nl", "Uw postcode 4821 AB is gewijzigd."),
        ("tr", "Kargo takipkodu 771930 ile gönderiniz yolda."),
    ],
    "promotion_compounds_beyond_the_24_languages": [
        ("no", "Din rabattkode 4821 gir 20% rabatt i nettbutikken."),
        ("fi", "Alennuskoodi 552910 on voimassa sunnuntaihin asti."),
        ("sv", "Använd kampanjkod 663019 i kassan."),
        ("ca", "Codi postal 08019, Barcelona."),
    ],
    "masked_or_numbered_otherwise": [
        ("en", "Card 5264..1234 used for INR 500 at ACME"),
        ("en", "Card 526418... charged USD 12 at ACME"),
        ("en", "Your order #482913 has shipped"),
        ("en", "Ticket #4821 confirmed for 12 Jan"),
    ],
    "bank_alerts_and_notices": [
        (
            "en",
            "Cash withdrawal at ATM-1234 of USD 200. Card MIR-4821. Thank you for banking with us.",
        ),
        ("en", "Card **1234** used for Rs 500 at ACME on 02-12."),
        ("en", "Your card ending 4821** was charged USD 12.00"),
        (
            "en",
            "Rs 4,500.00 debited from A/c XX1234 on 12-01-26. UPI Ref 401234567890. Not you? Call 18001234.",
        ),
        ("en", "Your order 552910 has shipped and arrives Tuesday."),
        ("en", "Please share the Happiness Code: 989296 with the engineer after work completion."),
        ("en", "Appointment confirmed for 12 Jan at 10:30. Booking ref 4821."),
        ("zh", "您尾号4821的卡于01月12日消费1500.00元。"),
        ("ru", "Покупка 1500р MIR-4821 Баланс: 12 345.67р"),
        ("ar", "تم خصم 250 ريال من بطاقتك رقم 4821"),
        ("pt", "Compra aprovada no cartão final 4821 no valor de R$ 150,00"),
    ],
}


@pytest.mark.parametrize(
    ("family", "language", "text", "codes"),
    [(f, lang, text, codes) for f, cases in OTP_FAMILIES.items() for lang, text, codes in cases],
)
def test_an_otp_of_each_family_is_found_with_its_code(
    family: str, language: str, text: str, codes: list[str]
) -> None:
    result = classify(text)
    assert result.is_otp, f"{family}/{language}: missed {text!r} ({result.reasons})"
    found = [text[start:end].translate(_DIGITS) for start, end in result.code_spans]
    for code in codes:
        assert any(code in span or (span in code and len(span) >= 4) for span in found), (
            f"{family}/{language}: {code!r} not among {found}"
        )


@pytest.mark.parametrize(
    ("family", "language", "text"),
    [(f, lang, text) for f, cases in NOT_OTP_FAMILIES.items() for lang, text in cases],
)
def test_a_non_otp_of_each_family_is_not_held(family: str, language: str, text: str) -> None:
    result = classify(text)
    assert not result.is_otp, f"{family}/{language}: false OTP {text!r} ({result.reasons})"


def test_every_answer_has_a_score_and_the_reasons_behind_it() -> None:
    otp = classify("Your PayBank verification code is 482913. Never share it.")
    assert otp.is_otp and otp.score > 0.9 and "otp_wording_near" in otp.reasons
    assert otp.language == "en"
    plain = classify("Your order 552910 has shipped.")
    assert not plain.is_otp and plain.score < 0.5


def test_a_rule_threshold_moves_the_decision() -> None:
    text = "Use 969700 to verify your LBRY account."
    default = classify(text)
    assert classify(text, threshold=0.0).is_otp
    assert not classify(text, threshold=1.0).is_otp
    assert 0.0 < default.score < 1.0


@pytest.mark.parametrize(
    ("text", "is_hash"),
    [
        ("<#> Your PayBank code is 482913\nFA+9qCX9VSu", True),
        ("Your code is 318204 kR2dW8xPq1z", True),
        ("Your code is 318204 4sgLq1p5sV6", True),
        ("Ihr Code ist 482913. Bitte nicht weitergeben", False),
        ("Your code is 318204, see the application", False),
        ("Your code is 318204. Visit Information", False),
        ("Your code is 318204. APPLICATION", False),
    ],
)
def test_an_app_hash_is_base64_not_a_word(text: str, is_hash: bool) -> None:
    assert ends_with_app_hash(text) is is_hash
