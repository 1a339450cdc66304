// App of test/53-tokens-adversarial.test.mjs: prompts the token estimator once found quadratic
// (~50k characters of Thai without spaces, one CJK character repeated), streamed and not, against a
// server that reports no usage, then a few ordinary calls. Prints each answer and the elapsed time.
// Environment: TEST_OPENAI_URL.
import OpenAI from 'openai';

// Thai words run together, as Thai is written (no spaces between words): one pre-tokenizer piece.
const THAI =
  'สวัสดี ประเทศไทย ภาษา การทำงาน ของระบบ คอมพิวเตอร์ ข้อมูล เป็น ได้ ไม่ กับ แล้ว เมื่อวาน อาหาร อร่อยมาก น้ำร้อน โรงเรียน นักเรียน หนังสือ เดินทาง กรุงเทพ เชียงใหม่ ทะเล ภูเขา'.split(
    ' ',
  );

function thai(n) {
  let s = '';
  for (let i = 0; s.length < n; i++) s += THAI[(i * 7 + (i >> 3)) % THAI.length];
  return s.slice(0, n);
}

async function main() {
  const started = performance.now();
  const client = new OpenAI({ baseURL: `${process.env.TEST_OPENAI_URL}/v1`, apiKey: 'sk-test-tokens', maxRetries: 0 });
  const chat = (content, fixture, stream) =>
    client.chat.completions.create(
      {
        model: 'gpt-4o-mini',
        messages: [
          { role: 'system', content: 'Answer briefly.' },
          { role: 'user', content },
        ],
        ...(stream ? { stream: true } : {}),
      },
      { headers: { 'x-fixture': fixture } },
    );
  const streamed = async (content) => {
    let text = '';
    for await (const chunk of await chat(content, 'streaming-chat-completions-adds-genai-conventions', true))
      text += chunk.choices[0]?.delta?.content ?? '';
    return text;
  };
  const plain = async (content, fixture = 'chat-no-usage') => (await chat(content, fixture, false)).choices[0].message.content;

  const hostile = [thai(51_600), '中'.repeat(50_000)];
  const answers = [];
  for (const prompt of hostile) {
    answers.push(await streamed(prompt));
    answers.push(await plain(prompt));
  }
  for (let i = 0; i < 3; i++)
    answers.push(await plain(`Question ${i}: which ocean contains Bouvet Island?`, 'chat-completions-adds-genai-conventions'));
  answers.push(await streamed('Which ocean contains Bouvet Island?'));
  for (const a of answers) process.stdout.write(`answer: ${a}\n`);
  process.stdout.write(`calls: ${answers.length}\n`);
  process.stderr.write(`elapsed-ms: ${Math.round(performance.now() - started)}\n`);
}

// node --test also runs every file under test/: nothing happens without the test's environment.
if (process.env.TEST_OPENAI_URL) await main();
