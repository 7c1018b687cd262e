import { defineComponent } from "vue";

export default defineComponent({
  name: "LandingPage",
  template: `
    <section class="hero">
      <div>
        <h1>Online exams your school can trust</h1>
        <p class="hero__lead">
          ProtoLearn runs timed tests in the browser and proctors them on the server, where students
          cannot tamper with it. Answers save as students type; a closed tab or a lost connection loses nothing.
        </p>
        <div class="row">
          <router-link class="button button--large" :to="{ name: 'register' }">Create an account</router-link>
          <router-link class="button button--secondary button--large" :to="{ name: 'login' }">Sign in</router-link>
        </div>
      </div>
      <div class="card landing-card" aria-label="How a proctored test works">
        <h2>How a proctored test works</h2>
        <ol class="steps">
          <li>The student reads what is recorded and agrees.</li>
          <li>A device check shows the camera picture and microphone level.</li>
          <li>The camera streams to the server while the student answers.</li>
          <li>The server spots a missing face, a second person or a voice, and the teacher sees it live.</li>
        </ol>
      </div>
    </section>
    <section class="features" aria-label="What ProtoLearn does">
      <article class="card feature">
        <h2>For teachers</h2>
        <p>Write multiple-choice, true/false and short-answer questions, or import them from Moodle XML, GIFT or CSV. Publish, then see scores, violations and a CSV of results.</p>
      </article>
      <article class="card feature">
        <h2>For students</h2>
        <p>One clear page per test with a timer from the server, a palette of answered and marked questions, and answers that are saved every few seconds.</p>
      </article>
      <article class="card feature">
        <h2>Proctoring decided on the server</h2>
        <p>Face, head pose and gaze are analysed on the school's own server. Evidence clips are kept for review by auditors, not by the student's browser.</p>
      </article>
    </section>`,
});
