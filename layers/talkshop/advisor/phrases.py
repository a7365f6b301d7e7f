"""Reply templates of the rules engine in English, Spanish, French and Portuguese.

Templates hold wording only: every product fact in a reply (names, prices, grams, ratings, review
quotes) is filled in from product data by the caller, so a translation can never change a fact.
``say("price", Language.ES, price="€59.95")`` gives ``"Precio: €59.95"``.
"""

from __future__ import annotations

from collections.abc import Sequence

from talkshop.advisor.intents import Language

# key -> (en, es, fr, pt); placeholders are str.format fields.
_TEMPLATES: dict[str, tuple[str, str, str, str]] = {
    # Greetings and conversation management
    "welcome": (
        "Hi! I'm the shop's advisor. Tell me what you are looking for, your level and your budget, "
        "and I'll suggest the two or three products that fit you best.",
        "¡Hola! Soy el asesor de la tienda. Cuéntame qué buscas, tu nivel y tu presupuesto, "
        "y te propondré los dos o tres productos que mejor te encajan.",
        "Bonjour ! Je suis le conseiller de la boutique. Dites-moi ce que vous cherchez, votre niveau et "
        "votre budget, et je vous proposerai les deux ou trois produits qui vous conviennent le mieux.",
        "Olá! Sou o consultor da loja. Diga-me o que procura, o seu nível e o seu orçamento, "
        "e sugiro os dois ou três produtos que melhor combinam consigo.",
    ),
    "welcome_back": (
        "Welcome back!",
        "¡Bienvenido de nuevo!",
        "Bon retour parmi nous !",
        "Bem-vindo de volta!",
    ),
    "how_is_purchase": (
        "How is the {name} working out for you?",
        "¿Qué tal te va con la {name}?",
        "Comment se passe votre expérience avec le {name} ?",
        "Como está a correr com o {name}?",
    ),
    "what_next": (
        "What can I help you find today?",
        "¿Qué te ayudo a encontrar hoy?",
        "Que puis-je vous aider à trouver aujourd'hui ?",
        "O que posso ajudar a encontrar hoje?",
    ),
    "ask_vague": (
        "Happy to help. What are you shopping for, and roughly what budget do you have in mind?",
        "Encantado de ayudarte. ¿Qué estás buscando y qué presupuesto aproximado tienes?",
        "Avec plaisir. Que cherchez-vous, et quel budget avez-vous à peu près en tête ?",
        "Com todo o gosto. O que procura e que orçamento tem mais ou menos em mente?",
    ),
    "ask_level": (
        "To narrow it down: what is your level (beginner, intermediate or advanced), and what budget "
        "do you have in mind?",
        "Para afinar: ¿cuál es tu nivel (principiante, intermedio o avanzado) y qué presupuesto tienes?",
        "Pour affiner : quel est votre niveau (débutant, intermédiaire ou avancé), et quel budget "
        "envisagez-vous ?",
        "Para afinar: qual é o seu nível (iniciante, intermédio ou avançado) e que orçamento tem em mente?",
    ),
    "contradiction": (
        "Earlier you said {previous}, now {new}. Which should I go by?",
        "Antes dijiste {previous} y ahora {new}. ¿Con cuál me quedo?",
        "Vous avez d'abord dit {previous}, maintenant {new}. Lequel dois-je retenir ?",
        "Antes disse {previous} e agora {new}. Com qual devo ficar?",
    ),
    # Recommendations
    "intro_recommend": (
        "Here is what I would suggest for you:",
        "Esto es lo que te recomendaría:",
        "Voici ce que je vous conseillerais :",
        "Eis o que lhe recomendaria:",
    ),
    "primary_line": (
        "My top pick is the {name} at {price}: {reasons}.",
        "Mi primera opción es la {name} por {price}: {reasons}.",
        "Mon premier choix est le {name} à {price} : {reasons}.",
        "A minha primeira escolha é o {name} por {price}: {reasons}.",
    ),
    "alternative_line": (
        "Alternative: the {name} at {price}: {reasons}.",
        "Alternativa: la {name} por {price}: {reasons}.",
        "Autre option : le {name} à {price} : {reasons}.",
        "Alternativa: o {name} por {price}: {reasons}.",
    ),
    "related_line": (
        "Often bought with it: the {name} ({price}).",
        "Se suele comprar junto con: {name} ({price}).",
        "Souvent acheté avec : {name} ({price}).",
        "Costuma ser comprado com: {name} ({price}).",
    ),
    "upgrade_line": (
        "When you are ready to step up: the {name} ({price}).",
        "Cuando quieras dar el salto: la {name} ({price}).",
        "Quand vous voudrez monter en gamme : le {name} ({price}).",
        "Quando quiser evoluir: o {name} ({price}).",
    ),
    "no_match": (
        "I could not find anything in stock, rated 3.5 or more, that meets all of that.",
        "No he encontrado nada en stock, con valoración de 3,5 o más, que cumpla todo eso.",
        "Je n'ai rien trouvé en stock, noté 3,5 ou plus, qui réponde à tout cela.",
        "Não encontrei nada em stock, com avaliação de 3,5 ou mais, que cumpra tudo isso.",
    ),
    "cheapest_option": (
        "The most affordable option in stock is the {name} at {price}. Could you stretch the budget "
        "to {price}?",
        "La opción más económica en stock es la {name} por {price}. ¿Podrías subir el presupuesto a {price}?",
        "L'option la plus abordable en stock est le {name} à {price}. Pourriez-vous monter le budget à "
        "{price} ?",
        "A opção mais acessível em stock é o {name} por {price}. Conseguiria subir o orçamento para {price}?",
    ),
    "relax_filters": (
        "Would you like me to relax one of your wishes, for example the brand or the weight?",
        "¿Quieres que relaje alguno de tus requisitos, por ejemplo la marca o el peso?",
        "Voulez-vous que j'assouplisse l'un de vos critères, par exemple la marque ou le poids ?",
        "Quer que flexibilize algum dos seus requisitos, por exemplo a marca ou o peso?",
    ),
    "other_currency": (
        "Prices in this shop are in {currency}, so I could not check a budget in {budget_currency} "
        "without converting it. What is your budget in {currency}?",
        "Los precios de esta tienda están en {currency}; no puedo comprobar un presupuesto en "
        "{budget_currency} sin convertirlo. ¿Cuál es tu presupuesto en {currency}?",
        "Les prix de cette boutique sont en {currency} ; je ne peux pas vérifier un budget en "
        "{budget_currency} sans le convertir. Quel est votre budget en {currency} ?",
        "Os preços desta loja estão em {currency}; não consigo verificar um orçamento em "
        "{budget_currency} sem o converter. Qual é o seu orçamento em {currency}?",
    ),
    # Reasons (each cites one product fact)
    "reason_budget": (
        "{price}, within your budget of {budget}",
        "{price}, dentro de tu presupuesto de {budget}",
        "{price}, dans votre budget de {budget}",
        "{price}, dentro do seu orçamento de {budget}",
    ),
    "reason_level": (
        "made for {level} players",
        "pensada para jugadores de nivel {level}",
        "conçu pour les joueurs de niveau {level}",
        "pensado para jogadores de nível {level}",
    ),
    "reason_style": (
        "built for {style} play",
        "un estilo de juego {style}",
        "un style de jeu {style}",
        "um estilo de jogo {style}",
    ),
    "reason_weight": ("{grams} g", "{grams} g", "{grams} g", "{grams} g"),
    "reason_shape": ("{shape} shape", "forma {shape}", "forme {shape}", "formato {shape}"),
    "reason_rating": (
        "rated {rating}/5 ({reviews} reviews)",
        "valorada con {rating}/5 ({reviews} opiniones)",
        "noté {rating}/5 ({reviews} avis)",
        "avaliado com {rating}/5 ({reviews} avaliações)",
    ),
    "reason_best_for": ("best for {items}", "ideal para {items}", "idéal pour {items}", "ideal para {items}"),
    "reason_left_handed": (
        "suited to left-handed players",
        "adecuada para zurdos",
        "adapté aux gauchers",
        "adequado para canhotos",
    ),
    "reason_needs": (
        "matches your wish for {needs}",
        "encaja con lo que pides: {needs}",
        "correspond à votre souhait : {needs}",
        "corresponde ao que pediu: {needs}",
    ),
    "reason_brand": (
        "from {brand}, a brand you like",
        "de {brand}, una marca que te gusta",
        "de {brand}, une marque que vous aimez",
        "da {brand}, uma marca de que gosta",
    ),
    "reason_related": (
        "often bought with the {name}",
        "se suele comprar con la {name}",
        "souvent acheté avec le {name}",
        "costuma ser comprado com o {name}",
    ),
    "reason_upgrade": (
        "the shop's next step up from the {name}",
        "el siguiente nivel de la tienda tras la {name}",
        "l'étape suivante de la boutique après le {name}",
        "o passo seguinte da loja depois do {name}",
    ),
    "reason_bestseller": (
        "a best seller",
        "uno de los más vendidos",
        "une meilleure vente",
        "um dos mais vendidos",
    ),
    "reason_new": ("new in the shop", "novedad en la tienda", "nouveauté de la boutique", "novidade na loja"),
    "reason_price": ("{price}", "{price}", "{price}", "{price}"),
    # Details
    "details_head": (
        "The {name} costs {price}.",
        "La {name} cuesta {price}.",
        "Le {name} coûte {price}.",
        "O {name} custa {price}.",
    ),
    "in_stock": (
        "It is in stock ({stock} available).",
        "Está en stock ({stock} disponibles).",
        "Il est en stock ({stock} disponibles).",
        "Está em stock ({stock} disponíveis).",
    ),
    "sold_out": (
        "It is sold out at the moment.",
        "Ahora mismo está agotada.",
        "Il est épuisé pour le moment.",
        "Está esgotado neste momento.",
    ),
    "key_facts": (
        "Key facts: {facts}.",
        "Datos clave: {facts}.",
        "Points clés : {facts}.",
        "Dados principais: {facts}.",
    ),
    "rating_line": (
        "Shoppers rate it {rating}/5 ({reviews} reviews).",
        "Los compradores le dan {rating}/5 ({reviews} opiniones).",
        "Les clients lui donnent {rating}/5 ({reviews} avis).",
        "Os clientes dão-lhe {rating}/5 ({reviews} avaliações).",
    ),
    "unrated": (
        "It has no rating yet.",
        "Todavía no tiene valoraciones.",
        "Il n'a pas encore de note.",
        "Ainda não tem avaliações.",
    ),
    "best_for_line": (
        "Best for: {items}.",
        "Ideal para: {items}.",
        "Idéal pour : {items}.",
        "Ideal para: {items}.",
    ),
    "avoid_when_line": (
        "Honestly, skip it if {items}.",
        "Siendo sincero, evítala si {items}.",
        "Honnêtement, évitez-le si {items}.",
        "Sinceramente, evite-o se {items}.",
    ),
    "which_product": (
        "Which product do you mean? Tell me its name, or ask for recommendations first.",
        "¿A qué producto te refieres? Dime su nombre o pídeme primero recomendaciones.",
        "De quel produit parlez-vous ? Donnez-moi son nom, ou demandez-moi d'abord des recommandations.",
        "A que produto se refere? Diga-me o nome ou peça-me primeiro recomendações.",
    ),
    # Comparison
    "compare_need_two": (
        "To compare I need at least two products: name them, or ask me for recommendations first.",
        "Para comparar necesito al menos dos productos: nómbralos o pídeme antes recomendaciones.",
        "Pour comparer, il me faut au moins deux produits : nommez-les ou demandez-moi d'abord des "
        "recommandations.",
        "Para comparar preciso de pelo menos dois produtos: diga-me os nomes ou peça-me primeiro "
        "recomendações.",
    ),
    "compare_intro": (
        "Here is how they compare:\n",
        "Así se comparan:\n",
        "Voici comment ils se comparent :\n",
        "Eis como se comparam:\n",
    ),
    "compare_pick": (
        "For your profile I would pick the {name}: {reasons}.",
        "Para tu perfil elegiría la {name}: {reasons}.",
        "Pour votre profil, je choisirais le {name} : {reasons}.",
        "Para o seu perfil escolheria o {name}: {reasons}.",
    ),
    "compare_pick_plain": (
        "Without more about you, the {name} stands out: {reasons}. Tell me your level and budget for a "
        "sharper pick.",
        "Sin saber más de ti, destaca la {name}: {reasons}. Dime tu nivel y presupuesto para afinar.",
        "Sans en savoir plus sur vous, le {name} se distingue : {reasons}. Donnez-moi votre niveau et "
        "votre budget pour affiner.",
        "Sem saber mais sobre si, destaca-se o {name}: {reasons}. Diga-me o seu nível e orçamento para "
        "afinar.",
    ),
    "row_price": ("Price", "Precio", "Prix", "Preço"),
    "row_rating": ("Rating", "Valoración", "Note", "Avaliação"),
    "row_stock": ("Stock", "Stock", "Stock", "Stock"),
    "row_level": ("Level", "Nivel", "Niveau", "Nível"),
    "row_weight": ("Weight", "Peso", "Poids", "Peso"),
    "row_shape": ("Shape", "Forma", "Forme", "Formato"),
    "row_style": ("Play style", "Estilo de juego", "Style de jeu", "Estilo de jogo"),
    "cell_rating": (
        "{rating}/5 ({reviews} reviews)",
        "{rating}/5 ({reviews} opiniones)",
        "{rating}/5 ({reviews} avis)",
        "{rating}/5 ({reviews} avaliações)",
    ),
    "cell_unrated": ("not rated yet", "sin valoraciones", "pas encore noté", "sem avaliações"),
    "cell_in_stock": ("in stock ({stock})", "en stock ({stock})", "en stock ({stock})", "em stock ({stock})"),
    "cell_sold_out": ("sold out", "agotado", "épuisé", "esgotado"),
    # Objections
    "review_quote": (
        '{author} ({stars}★) wrote: "{text}"',
        '{author} ({stars}★) escribió: "{text}"',
        "{author} ({stars}★) a écrit : « {text} »",
        '{author} ({stars}★) escreveu: "{text}"',
    ),
    "durability_intro": (
        "On durability, here is what owners of the {name} say.",
        "Sobre la durabilidad, esto dicen quienes tienen la {name}.",
        "Sur la durabilité, voici ce que disent les propriétaires du {name}.",
        "Sobre a durabilidade, eis o que dizem os donos do {name}.",
    ),
    "no_reviews": (
        "There are no reviews of the {name} yet, so I cannot quote owners on that.",
        "Aún no hay opiniones de la {name}, así que no puedo citar a nadie sobre eso.",
        "Il n'y a pas encore d'avis sur le {name}, je ne peux donc citer personne à ce sujet.",
        "Ainda não há avaliações do {name}, por isso não posso citar ninguém sobre isso.",
    ),
    "no_topic_reviews": (
        "None of the {reviews} reviews of the {name} talk about that.",
        "Ninguna de las {reviews} opiniones de la {name} habla de eso.",
        "Aucun des {reviews} avis sur le {name} n'en parle.",
        "Nenhuma das {reviews} avaliações do {name} fala disso.",
    ),
    "shop_note": ("{point}: {text}.", "{point}: {text}.", "{point} : {text}.", "{point}: {text}."),
    "tournament_yes": (
        "The {name} is rated for {level} players, so it holds up in competitive play.",
        "La {name} está pensada para nivel {level}, así que rinde en competición.",
        "Le {name} est conçu pour le niveau {level} : il tient la route en compétition.",
        "O {name} foi pensado para o nível {level}, por isso aguenta bem a competição.",
    ),
    "tournament_no": (
        "The {name} is made for {level} players; for tournaments you would usually want an advanced or "
        "pro racket.",
        "La {name} está pensada para nivel {level}; para torneos conviene una pala de nivel avanzado o pro.",
        "Le {name} est conçu pour le niveau {level} ; pour les tournois, mieux vaut une raquette de niveau "
        "avancé ou pro.",
        "O {name} foi pensado para o nível {level}; para torneios convém uma raquete de nível avançado ou "
        "pro.",
    ),
    "upgrade_to": (
        "The natural next step from the {name} is the {target} at {price}.",
        "El siguiente paso natural desde la {name} es la {target} por {price}.",
        "L'étape suivante naturelle après le {name} est le {target} à {price}.",
        "O passo seguinte natural depois do {name} é o {target} por {price}.",
    ),
    "no_upgrade": (
        "The shop lists no upgrade for the {name}.",
        "La tienda no indica ninguna mejora para la {name}.",
        "La boutique n'indique aucune montée en gamme pour le {name}.",
        "A loja não indica nenhuma evolução para o {name}.",
    ),
    "worth_it": (
        "At {price}, the {name} is rated {rating}/5 by {reviews} reviewers.",
        "Por {price}, la {name} tiene {rating}/5 de {reviews} opiniones.",
        "À {price}, le {name} est noté {rating}/5 par {reviews} clients.",
        "Por {price}, o {name} tem {rating}/5 de {reviews} avaliações.",
    ),
    "left_handed_yes": (
        "Yes: the {name} is listed as suited to left-handed players.",
        "Sí: la {name} figura como adecuada para zurdos.",
        "Oui : le {name} est indiqué comme adapté aux gauchers.",
        "Sim: o {name} está indicado como adequado para canhotos.",
    ),
    "left_handed_neutral": (
        "The {name} is not built for one hand in particular; left-handed players use it like anyone else.",
        "La {name} no está hecha para una mano concreta; los zurdos la usan igual que cualquiera.",
        "Le {name} n'est pas conçu pour une main en particulier ; les gauchers l'utilisent comme tout le "
        "monde.",
        "O {name} não é feito para uma mão em particular; os canhotos usam-no como qualquer pessoa.",
    ),
    "left_handed_options": (
        "Rackets the shop tags for left-handed players: {names}.",
        "Palas que la tienda marca para zurdos: {names}.",
        "Raquettes que la boutique indique pour les gauchers : {names}.",
        "Raquetes que a loja indica para canhotos: {names}.",
    ),
    "cheaper_option": (
        "A cheaper option with a similar profile is the {name} at {price}, in stock.",
        "Una opción más barata y parecida es la {name} por {price}, en stock.",
        "Une option moins chère au profil proche est le {name} à {price}, en stock.",
        "Uma opção mais barata com um perfil parecido é o {name} por {price}, em stock.",
    ),
    "no_cheaper": (
        "I have nothing cheaper with a similar profile in stock right now.",
        "Ahora mismo no tengo nada más barato y parecido en stock.",
        "Je n'ai rien de moins cher au profil proche en stock pour le moment.",
        "Neste momento não tenho nada mais barato e parecido em stock.",
    ),
    "comfort_intro": (
        "On comfort: {facts}.",
        "Sobre la comodidad: {facts}.",
        "Sur le confort : {facts}.",
        "Sobre o conforto: {facts}.",
    ),
    "shipping_returns": (
        "I don't have the seller's shipping and returns policy in my data, so I won't guess. You will see "
        "it at checkout, or the creator's shop page can tell you.",
        "No tengo en mis datos la política de envíos y devoluciones del vendedor, así que no voy a "
        "inventarla. La verás al pagar o en la página del creador.",
        "Je n'ai pas la politique de livraison et de retour du vendeur dans mes données, je ne vais donc "
        "pas l'inventer. Vous la verrez au paiement ou sur la page du créateur.",
        "Não tenho nos meus dados a política de envios e devoluções do vendedor, por isso não vou "
        "inventar. Vai vê-la no checkout ou na página do criador.",
    ),
    "objection_other": (
        "Here is what the data says about the {name}.",
        "Esto es lo que dicen los datos de la {name}.",
        "Voici ce que disent les données du {name}.",
        "Eis o que dizem os dados do {name}.",
    ),
    # Commerce and boundaries
    "discount": (
        "I can't create or promise discount codes. If you have a code, you can enter it at checkout.",
        "No puedo crear ni prometer códigos de descuento. Si tienes uno, puedes usarlo al pagar.",
        "Je ne peux ni créer ni promettre de codes de réduction. Si vous en avez un, saisissez-le au "
        "paiement.",
        "Não posso criar nem prometer códigos de desconto. Se tiver um, pode usá-lo no checkout.",
    ),
    "buy": (
        "Good choice: the {name} at {price}. Use the product card to add it to your cart and check out.",
        "Buena elección: la {name} por {price}. Usa la ficha del producto para añadirla al carrito y pagar.",
        "Bon choix : le {name} à {price}. Utilisez la fiche produit pour l'ajouter au panier et payer.",
        "Boa escolha: o {name} por {price}. Use o cartão do produto para o adicionar ao carrinho e pagar.",
    ),
    "buy_ready": (
        "Good choice: the {name} at {price}. Your checkout link is ready.",
        "Buena elección: la {name} por {price}. Tu enlace para pagar está listo.",
        "Bon choix : le {name} à {price}. Votre lien de paiement est prêt.",
        "Boa escolha: o {name} por {price}. O seu link de pagamento está pronto.",
    ),
    "buy_ready_many": (
        "Good choice: {quantity} of the {name} at {price} each. Your checkout link is ready.",
        "Buena elección: {quantity} unidades de la {name} por {price} cada una. Tu enlace para pagar está "
        "listo.",
        "Bon choix : {quantity} exemplaires du {name} à {price} l'unité. Votre lien de paiement est prêt.",
        "Boa escolha: {quantity} unidades do {name} por {price} cada. O seu link de pagamento está pronto.",
    ),
    "buy_too_few": (
        "Only {stock} of the {name} ({price}) are left, so I can't check out {quantity}. Shall I take "
        "{stock}?",
        "Solo quedan {stock} de la {name} ({price}), así que no puedo tramitar {quantity}. ¿Te parece "
        "bien {stock}?",
        "Il ne reste que {stock} {name} ({price}), je ne peux donc pas en commander {quantity}. "
        "J'en prends {stock} ?",
        "Só restam {stock} do {name} ({price}), por isso não consigo encomendar {quantity}. Fico com "
        "{stock}?",
    ),
    "buy_sold_out": (
        "The {name} ({price}) is sold out right now, so it can't be ordered.",
        "La {name} ({price}) está agotada ahora mismo, así que no se puede pedir.",
        "Le {name} ({price}) est épuisé pour le moment et ne peut pas être commandé.",
        "O {name} ({price}) está esgotado neste momento e não pode ser encomendado.",
    ),
    "code_applied_at_checkout": (
        "The code {code} is applied at checkout while it still qualifies.",
        "El código {code} se aplica al pagar mientras siga siendo válido.",
        "Le code {code} est appliqué au paiement tant qu'il reste valable.",
        "O código {code} é aplicado no pagamento enquanto continuar válido.",
    ),
    "discount_applies_in_chat": (
        "Check out from this chat and it is applied for you.",
        "Si pagas desde este chat, se aplica automáticamente.",
        "Payez depuis ce chat et il sera appliqué automatiquement.",
        "Se pagar a partir deste chat, é aplicado automaticamente.",
    ),
    "deal_percent": (
        "{percent}% off",
        "un {percent}% de descuento",
        "{percent} % de réduction",
        "{percent}% de desconto",
    ),
    "deal_amount": ("{amount} off", "{amount} de descuento", "{amount} de réduction", "{amount} de desconto"),
    "deal_first_order": (
        "{deal} for first-time buyers",
        "{deal} en la primera compra",
        "{deal} pour une première commande",
        "{deal} na primeira compra",
    ),
    "discount_found": (
        "I found {deal}: code {code}. You'd save {saving} on the {name}.",
        "He encontrado {deal}: el código {code}. Ahorrarías {saving} en la {name}.",
        "J'ai trouvé {deal} : le code {code}. Vous économiseriez {saving} sur le {name}.",
        "Encontrei {deal}: o código {code}. Pouparia {saving} no {name}.",
    ),
    "discount_found_on_first_order": (
        "Good news: I found {deal}, code {code}, so you'd save {saving} on the {name}.",
        "Buenas noticias: he encontrado {deal}, el código {code}; ahorrarías {saving} en la {name}.",
        "Bonne nouvelle : j'ai trouvé {deal}, le code {code} ; vous économiseriez {saving} sur le {name}.",
        "Boa notícia: encontrei {deal}, o código {code}; pouparia {saving} no {name}.",
    ),
    "discount_none": (
        "I checked, and there is no discount code that applies to the {name} for you right now.",
        "Lo he comprobado y ahora mismo no hay ningún código de descuento que se aplique a la {name} para "
        "ti.",
        "J'ai vérifié : aucun code de réduction ne s'applique au {name} pour vous en ce moment.",
        "Verifiquei e neste momento não há nenhum código de desconto que se aplique ao {name} para si.",
    ),
    "discount_which": (
        "Which product should I check for a discount code?",
        "¿Para qué producto busco un código de descuento?",
        "Pour quel produit dois-je chercher un code de réduction ?",
        "Para que produto procuro um código de desconto?",
    ),
    "order_status": (
        "I can't look up orders from this chat yet. Your order confirmation email has its status, and "
        "support can help with anything else.",
        "Todavía no puedo consultar pedidos desde este chat. El correo de confirmación tiene su estado, y "
        "soporte puede ayudarte con lo demás.",
        "Je ne peux pas encore consulter les commandes depuis ce chat. L'e-mail de confirmation indique "
        "leur statut, et le support peut vous aider pour le reste.",
        "Ainda não consigo consultar encomendas a partir deste chat. O email de confirmação tem o estado, "
        "e o apoio ao cliente pode ajudar com o resto.",
    ),
    "order_none": (
        "I can't find an order for you. Orders placed with this shopper account show up here once they "
        "are placed.",
        "No encuentro ningún pedido tuyo. Los pedidos hechos con esta cuenta aparecen aquí en cuanto se "
        "realizan.",
        "Je ne trouve aucune commande à votre nom. Les commandes passées avec ce compte apparaissent ici "
        "dès qu'elles sont passées.",
        "Não encontro nenhuma encomenda sua. As encomendas feitas com esta conta aparecem aqui assim que "
        "são feitas.",
    ),
    "order_intro": (
        "Here is what I found:",
        "Esto es lo que he encontrado:",
        "Voici ce que j'ai trouvé :",
        "Eis o que encontrei:",
    ),
    "order_line": (
        "Order {id} of {date}: {items}, {total}. Status: {status}.",
        "Pedido {id} del {date}: {items}, {total}. Estado: {status}.",
        "Commande {id} du {date} : {items}, {total}. Statut : {status}.",
        "Encomenda {id} de {date}: {items}, {total}. Estado: {status}.",
    ),
    "support": (
        "I'm sorry about that. I can't handle refunds, returns or account issues here; please contact the "
        "shop's support team, who can look into it.",
        "Lo siento. Desde aquí no puedo gestionar reembolsos, devoluciones ni cuentas; contacta con el "
        "equipo de soporte de la tienda.",
        "Désolé. Je ne peux pas gérer ici les remboursements, retours ou comptes ; contactez le support de "
        "la boutique.",
        "Lamento. Daqui não consigo tratar reembolsos, devoluções ou contas; contacte o apoio ao cliente "
        "da loja.",
    ),
    "off_topic": (
        "I can only help with the shop's products. What are you looking for?",
        "Solo puedo ayudarte con los productos de la tienda. ¿Qué estás buscando?",
        "Je ne peux vous aider qu'avec les produits de la boutique. Que cherchez-vous ?",
        "Só posso ajudar com os produtos da loja. O que procura?",
    ),
    "inappropriate": (
        "Let's keep this respectful. I'm here to help you find the right products.",
        "Mantengamos el respeto. Estoy aquí para ayudarte a encontrar los productos adecuados.",
        "Restons courtois. Je suis là pour vous aider à trouver les bons produits.",
        "Vamos manter o respeito. Estou aqui para ajudar a encontrar os produtos certos.",
    ),
    "refuse": (
        "I can't do that: prices, orders and other shoppers' data are not something I can change or "
        "share. I'm happy to help you choose a product.",
        "No puedo hacer eso: no puedo cambiar precios ni pedidos, ni compartir datos de otros clientes. "
        "Encantado de ayudarte a elegir un producto.",
        "Je ne peux pas faire cela : je ne peux ni modifier les prix ou les commandes, ni partager les "
        "données d'autres clients. Je peux vous aider à choisir un produit.",
        "Não posso fazer isso: não posso alterar preços ou encomendas, nem partilhar dados de outros "
        "clientes. Posso ajudar a escolher um produto.",
    ),
}

_LANGUAGE_INDEX = {Language.EN: 0, Language.ES: 1, Language.FR: 2, Language.PT: 3}

# Catalog attribute values the replies translate (the data itself stays as it is).
_VALUES: dict[str, tuple[str, str, str, str]] = {
    "beginner": ("beginner", "principiante", "débutant", "iniciante"),
    "intermediate": ("intermediate", "intermedio", "intermédiaire", "intermédio"),
    "advanced": ("advanced", "avanzado", "avancé", "avançado"),
    "pro": ("pro", "profesional", "professionnel", "profissional"),
    "all levels": ("all-level", "todos los niveles", "tous niveaux", "todos os níveis"),
    "control": ("control", "de control", "contrôle", "de controlo"),
    "power": ("power", "de potencia", "puissance", "de potência"),
    "all-round": ("all-round", "polivalente", "polyvalent", "polivalente"),
    "round": ("round", "redonda", "ronde", "redondo"),
    "teardrop": ("teardrop", "lágrima", "goutte d'eau", "lágrima"),
    "diamond": ("diamond", "diamante", "diamant", "diamante"),
    # Order statuses
    "placed": (
        "placed, awaiting payment",
        "realizado, pendiente de pago",
        "passée, en attente de paiement",
        "efetuada, a aguardar pagamento",
    ),
    "paid": ("paid", "pagado", "payée", "paga"),
    "cancelled": ("cancelled", "cancelado", "annulée", "cancelada"),
    "refunded": ("refunded", "reembolsado", "remboursée", "reembolsada"),
}

_AND = ("and", "y", "et", "e")


def say(key: str, language: Language, **values: object) -> str:
    """The template ``key`` in ``language`` with ``values`` filled in."""
    return _TEMPLATES[key][_LANGUAGE_INDEX[language]].format(**values)


def term(value: str, language: Language) -> str:
    """A catalog attribute value (level, style, shape) in ``language``; unknown values unchanged."""
    translations = _VALUES.get(value.casefold())
    return translations[_LANGUAGE_INDEX[language]] if translations else value


def join(items: Sequence[str], language: Language) -> str:
    """'a, b and c' in ``language``."""
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {_AND[_LANGUAGE_INDEX[language]]} {items[-1]}"


def rating_text(rating: float) -> str:
    """4.0 -> '4', 4.3 -> '4.3': the rating as the data holds it, without a trailing zero."""
    return f"{rating:g}"
