"""The classifier in every supported language: five OTPs and five non-OTPs each, our own wordings.

Each OTP's code must be among the spans and gone after redaction; each non-OTP (amounts,
card endings, dates, times, order and tracking numbers, phone numbers, marketing) must not
be an OTP.
"""

from __future__ import annotations

import pytest

from policies.classifier import classify, redact

OTPS: dict[str, list[tuple[str, str]]] = {
    "en": [
        ("Your PayBank verification code is 482913. Never share it.", "482913"),
        ("Use 7731 as your one-time password to sign in.", "7731"),
        ("G-583920 is your Google verification code.", "G-583920"),
        ("Your OTP for the transfer of GBP 250.00 is 904417. Valid 5 minutes.", "904417"),
        ("Security code: A7K9Q2. Do not give it to anyone, not even bank staff.", "A7K9Q2"),
    ],
    "zh": [
        ("【工商银行】您的验证码为 628194，5分钟内有效。", "628194"),
        ("验证码：3391，用于登录，请勿泄露。", "3391"),
        ("您正在进行转账，动态密码 550217，切勿告诉他人。", "550217"),
        ("您的校验码是 80417623，10分钟内有效。", "80417623"),
        ("登录确认码 194-882，如非本人操作请忽略。", "194-882"),
    ],
    "zh_hant": [
        ("【國泰世華】您的驗證碼為 318264，請於5分鐘內輸入。", "318264"),
        ("動態密碼 772019，請勿提供給他人。", "772019"),
        ("您的簡訊碼：4410，有效時間10分鐘。", "4410"),
        ("交易認證碼 903318，如非本人交易請致電客服。", "903318"),
        ("一次性密碼 58613902 用於網路銀行登入。", "58613902"),
    ],
    "es": [
        ("Tu código de verificación es 573920. No lo compartas.", "573920"),
        ("BancoSur: clave de seguridad 8812 para confirmar la compra.", "8812"),
        ("Su código OTP es 441093, válido por 10 minutos.", "441093"),
        ("Usa 690173 como contraseña de un solo uso.", "690173"),
        ("Código de confirmación: 30551877. Nunca te lo pediremos por teléfono.", "30551877"),
    ],
    "pt": [
        ("Seu código de verificação é 284610. Não compartilhe.", "284610"),
        ("Banco Norte: código de segurança 9921 para autorizar o Pix.", "9921"),
        ("Use 713305 como senha temporária.", "713305"),
        ("O seu código de confirmação é 552018, válido por 5 minutos.", "552018"),
        ("Token 40187733 para acessar o internet banking.", "40187733"),
    ],
    "fr": [
        ("Votre code de vérification est 820415. Ne le communiquez à personne.", "820415"),
        ("Code de confirmation : 3306 pour valider votre paiement.", "3306"),
        ("Votre mot de passe à usage unique : 661902.", "661902"),
        ("Banque Ouest : code de sécurité 91827364, valable 10 minutes.", "91827364"),
        ("Saisissez le code 448210 pour confirmer votre connexion.", "448210"),
    ],
    "de": [
        ("Ihr Bestätigungscode lautet 731946. Geben Sie ihn nicht weiter.", "731946"),
        ("Sparkasse: Ihre TAN für die Überweisung ist 582013.", "582013"),
        ("Einmalpasswort: 4417 – gültig für 5 Minuten.", "4417"),
        ("Ihr Sicherheitscode: 90281734. Wir fragen nie danach.", "90281734"),
        ("Verifizierungscode 663018 für Ihre Anmeldung.", "663018"),
    ],
    "ru": [
        ("Код подтверждения: 472819. Никому не сообщайте.", "472819"),
        ("Ваш одноразовый пароль 5510 для входа в Сбербанк Онлайн.", "5510"),
        ("Пароль для подтверждения перевода 3000 руб.: 918273.", "918273"),
        ("Код 660214 для входа. Не сообщайте его никому.", "660214"),
        ("Проверочный код 70194482 действует 5 минут.", "70194482"),
    ],
    "ar": [
        ("رمز التحقق الخاص بك هو 583014. لا تشاركه مع أحد.", "583014"),
        ("كلمة المرور لمرة واحدة: 7720", "7720"),
        ("رمز التأكيد ٤٨٢٩١٣ صالح لمدة ٥ دقائق.", "٤٨٢٩١٣"),
        ("استخدم 661903 كرمز تحقق لتسجيل الدخول.", "661903"),
        ("البنك الأهلي: رمز OTP هو 90214477", "90214477"),
    ],
    "hi": [
        ("आपका सत्यापन कोड 482031 है। इसे किसी के साथ साझा न करें।", "482031"),
        ("लेनदेन के लिए OTP 7719 है, 5 मिनट के लिए मान्य।", "7719"),
        ("आपका वन टाइम पासवर्ड ५५१०२९ है।", "५५१०२९"),
        ("लॉगिन के लिए सत्यापन कोड: 66014219", "66014219"),
        ("ओटीपी 903318 किसी को न बताएं।", "903318"),
    ],
    "id": [
        ("Kode verifikasi Anda 572013. Jangan berikan kepada siapa pun.", "572013"),
        ("Kode OTP 8841 untuk transaksi Anda, berlaku 5 menit.", "8841"),
        ("JANGAN BERIKAN kode rahasia 630192 ini kepada siapa pun.", "630192"),
        ("Kode keamanan: 40917733 untuk masuk ke aplikasi.", "40917733"),
        ("Gunakan 228104 sebagai kode verifikasi.", "228104"),
    ],
    "tr": [
        ("Doğrulama kodunuz 583920. Kimseyle paylaşmayın.", "583920"),
        ("İşleminiz için tek kullanımlık şifre: 4471", "4471"),
        ("Banka: onay kodu 661028, 3 dakika geçerlidir.", "661028"),
        ("Giriş için güvenlik kodunuz 90281736.", "90281736"),
        ("Şifreniz 330917. Bankamız bu şifreyi asla sormaz.", "330917"),
    ],
    "vi": [
        ("Mã xác thực của bạn là 482019. Không chia sẻ cho ai.", "482019"),
        ("Mã OTP 7730 dùng để xác nhận giao dịch, hiệu lực 3 phút.", "7730"),
        ("Mã xác nhận đăng nhập: 551903", "551903"),
        ("Ngân hàng: mã bảo mật 90213377 của quý khách.", "90213377"),
        ("Nhập mã xác minh 663021 để hoàn tất.", "663021"),
    ],
}

NON_OTPS: dict[str, list[str]] = {
    "en": [
        "Your card ending 4821 was charged GBP 1250.00 at TESCO.",
        "Order 88213391 has shipped; tracking number 1Z99912345.",
        "Your appointment is on 12/05/2026 at 14:30.",
        "Call us on 0800 123 4567 for help with your account.",
        "SALE! 50% off everything this weekend. Reply STOP to opt out.",
    ],
    "zh": [
        "您尾号4821的银行卡消费人民币1250.00元。",
        "您的订单 88213391 已发货，快递单号 SF1234567890。",
        "您预约的时间为2026年5月12日14:30。",
        "如有疑问请致电客服 95588。",
        "双十一大促，全场5折，回复TD退订。",
    ],
    "zh_hant": [
        "您尾號4821的信用卡消費新台幣1250元。",
        "訂單編號 88213391 已出貨。",
        "您的預約時間為5月12日14:30。",
        "客服專線 0800-123-456。",
        "週年慶全館8折，回覆N退訂。",
    ],
    "es": [
        "Se ha cargado 125,00 EUR en su tarjeta terminada en 4821.",
        "Su pedido 88213391 ha sido enviado.",
        "Su cita es el 12/05/2026 a las 14:30.",
        "Llámenos al 900 123 456 si tiene dudas.",
        "¡Oferta! 30% de descuento en todos los planes.",
    ],
    "pt": [
        "Compra de R$ 1250,00 no cartão final 4821 aprovada.",
        "Seu pedido 88213391 foi enviado.",
        "Sua consulta está marcada para 12/05/2026 às 14:30.",
        "Ligue 0800 123 4567 para falar conosco.",
        "Promoção: 40% de desconto só hoje!",
    ],
    "fr": [
        "Paiement de 125,00 EUR avec votre carte se terminant par 4821.",
        "Votre commande 88213391 a été expédiée.",
        "Votre rendez-vous est le 12/05/2026 à 14h30.",
        "Appelez le 01 23 45 67 89 pour toute question.",
        "Soldes : -50% sur tout le magasin ce week-end !",
    ],
    "de": [
        "Zahlung von 125,00 EUR mit Ihrer Karte mit Endziffern 4821.",
        "Ihre Bestellung 88213391 wurde versandt.",
        "Ihr Termin ist am 12.05.2026 um 14:30 Uhr.",
        "Rufen Sie uns an unter 0800 1234567.",
        "Nur heute: 20% Rabatt auf alles!",
    ],
    "ru": [
        "Покупка 1250 руб. по карте *4821 одобрена.",
        "Ваш заказ 88213391 отправлен.",
        "Ваша запись на 12.05.2026 в 14:30.",
        "Звоните нам по номеру 8 800 555 3535.",
        "Скидка 30% на все тарифы до конца месяца!",
    ],
    "ar": [
        "تم خصم 1250 ريال من بطاقتك المنتهية بـ 4821.",
        "تم شحن طلبك رقم 88213391.",
        "موعدك يوم 12/05/2026 الساعة 14:30.",
        "اتصل بنا على 800 123 4567 للمساعدة.",
        "عرض خاص: خصم 50% على جميع المنتجات!",
    ],
    "hi": [
        "आपके कार्ड 4821 से ₹1250 का भुगतान हुआ।",
        "आपका ऑर्डर 88213391 भेज दिया गया है।",
        "आपकी अपॉइंटमेंट 12/05/2026 को 14:30 बजे है।",
        "सहायता के लिए 1800 123 4567 पर कॉल करें।",
        "बंपर सेल! सभी उत्पादों पर 50% छूट।",
    ],
    "id": [
        "Transaksi Rp 125.000 dengan kartu berakhiran 4821 berhasil.",
        "Pesanan 88213391 sudah dikirim.",
        "Janji temu Anda pada 12/05/2026 pukul 14:30.",
        "Hubungi kami di 1500 888 untuk bantuan.",
        "Promo! Diskon 50% untuk semua paket data.",
    ],
    "tr": [
        "4821 ile biten kartınızdan 1250 TL harcama yapıldı.",
        "88213391 numaralı siparişiniz kargoya verildi.",
        "Randevunuz 12.05.2026 saat 14:30'da.",
        "Bize 0850 123 45 67 numarasından ulaşın.",
        "Kampanya! Tüm ürünlerde %50 indirim.",
    ],
    "vi": [
        "Thẻ kết thúc 4821 vừa thanh toán 1.250.000 VND.",
        "Đơn hàng 88213391 đã được giao cho đơn vị vận chuyển.",
        "Lịch hẹn của bạn vào 12/05/2026 lúc 14:30.",
        "Gọi tổng đài 1900 1234 để được hỗ trợ.",
        "Khuyến mãi 50% cho tất cả gói cước!",
    ],
}


@pytest.mark.parametrize(
    ("language", "text", "code"),
    [(lang, text, code) for lang, cases in OTPS.items() for text, code in cases],
)
def test_otp_is_found_and_its_code_redacted(language: str, text: str, code: str) -> None:
    result = classify(text)
    assert result.is_otp, f"{language}: missed {text!r}"
    redacted = redact(text, result.code_spans)
    assert code not in redacted and "[CODE]" in redacted


@pytest.mark.parametrize(
    ("language", "text"), [(lang, text) for lang, texts in NON_OTPS.items() for text in texts]
)
def test_non_otp_is_not_an_otp(language: str, text: str) -> None:
    assert not classify(text).is_otp, f"{language}: false OTP {text!r}"


def test_every_supported_language_has_its_table() -> None:
    assert set(OTPS) == set(NON_OTPS) and len(OTPS) == 13
    assert all(len(v) >= 5 for v in OTPS.values()) and all(len(v) >= 5 for v in NON_OTPS.values())
